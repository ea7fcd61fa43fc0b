"""Cheeper, going further: likes.

Step 2's app, and a ♥ button under each cheep. A page sends {"type": "like", "id": 7}
over its socket; the server stores the like in the likes table, once for each
browser, and sends the cheep's new count, {"type": "likes", "id": 7, "count": 3},
to every page. A browser is known by a random key that the page gave it in a cookie.
"""
# gevent swaps Python's blocking network calls for ones that let thousands of
# connections wait at once. It must patch them before anything else is imported.
from gevent import monkey

monkey.patch_all()

import json
import os
import secrets
import signal
import sqlite3
import sys
from datetime import datetime, timezone

import gevent
from flask import Flask, make_response, redirect, render_template, request
from gevent.pywsgi import WSGIServer
from geventwebsocket.exceptions import WebSocketError
from geventwebsocket.handler import WebSocketHandler
from werkzeug.routing import WebsocketMismatch

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "5000"))
DATABASE = os.environ.get("CHEEPER_DB") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "cheeps.db"
)
LIKER = "liker"  # the cookie that holds this browser's key for likes
A_YEAR = 365 * 24 * 60 * 60  # seconds: how long a browser keeps its key

app = Flask(__name__)


def connect():
    db = sqlite3.connect(DATABASE)
    db.row_factory = sqlite3.Row  # rows behave like dicts: row["name"]
    return db


def create_table():
    db = connect()
    db.execute(
        """CREATE TABLE IF NOT EXISTS cheeps (
               id    INTEGER PRIMARY KEY AUTOINCREMENT,
               name  TEXT NOT NULL,
               cheep TEXT NOT NULL,
               time  TEXT NOT NULL
           )"""
    )
    # One row per like. IF NOT EXISTS: a cheeps.db made before likes gains the table
    # and keeps its cheeps. UNIQUE: one key likes a cheep once, however often it presses.
    db.execute(
        """CREATE TABLE IF NOT EXISTS likes (
               cheep_id INTEGER NOT NULL REFERENCES cheeps (id),
               key      TEXT NOT NULL,
               UNIQUE (cheep_id, key)
           )"""
    )
    db.commit()
    db.close()


def save_cheep(name, cheep):
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    db = connect()
    cursor = db.execute(
        "INSERT INTO cheeps (name, cheep, time) VALUES (?, ?, ?)", (name, cheep, time)
    )
    db.commit()
    db.close()
    return {"id": cursor.lastrowid, "name": name, "cheep": cheep, "time": time}


def all_cheeps(key):
    """Every cheep, newest first, with its number of likes, and whether this key liked it."""
    db = connect()
    cheeps = db.execute(
        """SELECT *,
                  (SELECT COUNT(*) FROM likes WHERE cheep_id = cheeps.id) AS likes,
                  EXISTS (SELECT 1 FROM likes WHERE cheep_id = cheeps.id AND key = ?) AS liked
           FROM cheeps ORDER BY id DESC""",
        (key,),
    ).fetchall()
    db.close()
    return cheeps


def save_like(cheep_id, key):
    """Store that this key likes the cheep, unless it did already. Returns the cheep's
    number of likes and whether this like was new, or None when there is no such cheep."""
    db = connect()
    if db.execute("SELECT 1 FROM cheeps WHERE id = ?", (cheep_id,)).fetchone() is None:
        db.close()
        return None
    # OR IGNORE: the same key again would break UNIQUE; it is simply not stored twice.
    cursor = db.execute("INSERT OR IGNORE INTO likes (cheep_id, key) VALUES (?, ?)", (cheep_id, key))
    db.commit()
    count = db.execute("SELECT COUNT(*) FROM likes WHERE cheep_id = ?", (cheep_id,)).fetchone()[0]
    db.close()
    return count, cursor.rowcount == 1


clients = set()  # the WebSocket of every browser that is connected now


def broadcast(cheep):
    send_to_everyone({"type": "cheep", **cheep})


def send_to_everyone(message):
    message = json.dumps(message)
    # Loop over a copy: while one send waits, another client may join or leave.
    for client in list(clients):
        try:
            client.send(message)
        except WebSocketError:
            clients.discard(client)  # it has gone; the others still get the cheep


def answer_like(websocket, data, key):
    """Store a like and send the cheep's new count to every page, or tell this page
    alone why not: a refused like stores nothing, and the others hear nothing of it."""
    cheep_id = data.get("id")
    # type() and not isinstance(): to Python, true is the number 1. 2**63: SQLite's limit.
    if type(cheep_id) is not int or not 0 < cheep_id < 2**63:
        return refuse(websocket, 'A like needs "id", the id of a cheep: a whole number, like 7.')
    if not key:
        return refuse(websocket, "This like came without the key the page gives each browser: "
                                 "open the page, and like from there.")
    liked = save_like(cheep_id, key)
    if liked is None:
        return refuse(websocket, f"There is no cheep {cheep_id} to like.")
    count, new = liked
    message = {"type": "likes", "id": cheep_id, "count": count}
    if new:
        send_to_everyone(message)
    else:  # pressed again: nothing changed, so only this page hears the count
        websocket.send(json.dumps(message))


def refuse(websocket, reason):
    websocket.send(json.dumps({"type": "error", "message": reason}))


@app.route("/")
def index():
    # A random key for each browser, kept in a cookie that its socket sends back.
    key = request.cookies.get(LIKER) or secrets.token_hex(16)
    response = make_response(render_template("index.html", cheeps=all_cheeps(key)))
    # SameSite=Strict: a page of another site cannot send it, and like in this browser's name.
    response.set_cookie(LIKER, key, max_age=A_YEAR, httponly=True, samesite="Strict")
    return response


@app.route("/api/cheep", methods=["POST"])
def post_cheep():
    cheep = save_cheep(request.form["name"], request.form["cheep"])
    broadcast(cheep)
    # 303 See Other: the browser follows it with a GET, so reloading the page
    # afterwards does not post the same cheep again.
    return redirect("/", code=303)


# Reached when the route lacks websocket=True and this is a plain page request,
# or when the app runs under 'flask run', which cannot open WebSockets.
NO_WEBSOCKET_HERE = (
    "No WebSocket here: open this address with new WebSocket(...), and start the app "
    "with 'python server.py' (gevent-websocket), not with 'flask run'.\n"
)


# websocket=True: without it Flask refuses the WebSocket request (Werkzeug's
# WebsocketMismatch) and the connection closes as soon as it opens.
@app.route("/echo", websocket=True)
def echo():
    websocket = request.environ.get("wsgi.websocket")
    if websocket is None:
        return NO_WEBSOCKET_HERE, 400
    while True:
        message = websocket.receive()
        if message is None:  # the client closed the connection
            break
        websocket.send(message)
    return ""


@app.route("/ws", websocket=True)
def ws():
    websocket = request.environ.get("wsgi.websocket")
    if websocket is None:
        return NO_WEBSOCKET_HERE, 400
    clients.add(websocket)
    try:
        while True:
            message = websocket.receive()
            if message is None:  # the client closed the connection
                break
            try:
                data = json.loads(message)
            except ValueError:
                continue  # not JSON: skip it, and keep the connection open
            if data.get("type") == "like":
                answer_like(websocket, data, request.cookies.get(LIKER))
                continue
            cheep = save_cheep(data["name"], data["cheep"])
            broadcast(cheep)
    except WebSocketError:
        pass  # the socket was already closed
    finally:
        clients.discard(websocket)
    return ""


@app.errorhandler(WebsocketMismatch)
def not_a_websocket(error):
    return "This address speaks WebSocket: open it with new WebSocket(...), not as a page.\n", 400


create_table()

if __name__ == "__main__":
    server = WSGIServer((HOST, PORT), app, handler_class=WebSocketHandler)
    try:
        server.start()
    except OSError as error:
        sys.exit(
            f"Cannot listen on {HOST}:{PORT}: {error.strerror}.\n"
            f"If port {PORT} is in use, pick another one with the PORT environment variable,\n"
            f"for example: PORT=5001 python {sys.argv[0]}\n"
            "(On macOS, AirPlay Receiver holds port 5000.)"
        )
    print(f"Cheeper is running on http://{HOST}:{PORT}/ - press Ctrl+C to stop.")
    gevent.signal_handler(signal.SIGINT, server.stop)  # Ctrl+C stops the server cleanly
    server.serve_forever()
