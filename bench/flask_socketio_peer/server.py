"""For comparison in the benchmark: Cheeper's broadcast as most Flask apps would
add it, with Flask-SocketIO. Run the gevent way, like the solution (gevent and
gevent-websocket), so that the comparison is of the libraries, not the servers.

It does the solution's job and no more: a "cheep" event is stored in SQLite
(one row, committed, as the solution stores it) and sent to every client with
emit(..., broadcast=True). No checks, no limits."""

from gevent import monkey

monkey.patch_all()  # Flask-SocketIO's advice for gevent: blocking calls give way to other clients

import os  # noqa: E402
import sqlite3  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO, emit  # noqa: E402

PORT = int(os.environ.get("PORT", "5000"))
DATABASE = os.environ.get("CHEEPER_DB", "cheeps.db")

app = Flask(__name__)
# Pings as often as the solution's setting says (the benchmark: once an hour); else Socket.IO's 25 s.
PING_SECONDS = int(os.environ.get("CHEEPER_PING_SECONDS", "25"))
socketio = SocketIO(app, async_mode="gevent", ping_interval=PING_SECONDS, cors_allowed_origins="*")
db = sqlite3.connect(DATABASE, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS cheeps (id INTEGER PRIMARY KEY, name TEXT, cheep TEXT, time TEXT, key TEXT)")


@app.get("/")
def index():
    return "Flask-SocketIO peer: connect to /socket.io/"  # the benchmark asks this to know it is up


@socketio.on("cheep")
def cheep(data):
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    row = db.execute(
        "INSERT INTO cheeps (name, cheep, time, key) VALUES (?, ?, ?, ?)",
        (data["name"], data["cheep"], time, data.get("key")),
    )
    db.commit()
    stored = {"type": "cheep", "id": row.lastrowid, **data, "time": time}
    emit("cheep", stored, broadcast=True)


if __name__ == "__main__":
    print(f"Flask-SocketIO peer on port {PORT}", flush=True)
    socketio.run(app, host="127.0.0.1", port=PORT, log_output=False)
