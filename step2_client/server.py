"""Cheeper, step 2: the browser half of realtime.

The server is step 1's, unchanged. What is new is the page: its script
(static/cheeper.js) opens a WebSocket to /ws, sends cheeps over it instead of
posting the form, and shows every cheep that arrives, without a reload.
"""

# gevent swaps Python's blocking network calls for ones that let thousands of
# connections wait at once. It must patch them before anything else is imported.
from gevent import monkey

monkey.patch_all()

import json
import os
import signal
import sqlite3
import sys
from datetime import datetime, timezone

import gevent
from flask import Flask, redirect, render_template, request
from gevent.pywsgi import WSGIServer
from geventwebsocket.exceptions import WebSocketError
from geventwebsocket.handler import WebSocketHandler
from werkzeug.routing import WebsocketMismatch

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "5000"))
DATABASE = os.environ.get("CHEEPER_DB") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "cheeps.db")

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
    db.commit()
    db.close()


def save_cheep(name, cheep):
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    db = connect()
    cursor = db.execute("INSERT INTO cheeps (name, cheep, time) VALUES (?, ?, ?)", (name, cheep, time))
    db.commit()
    db.close()
    return {"id": cursor.lastrowid, "name": name, "cheep": cheep, "time": time}


def all_cheeps():
    db = connect()
    cheeps = db.execute("SELECT * FROM cheeps ORDER BY id DESC").fetchall()
    db.close()
    return cheeps


clients = set()  # the WebSocket of every browser that is connected now


def broadcast(cheep):
    message = json.dumps({"type": "cheep", **cheep})
    # Loop over a copy: while one send waits, another client may join or leave.
    for client in list(clients):
        try:
            client.send(message)
        except WebSocketError:
            clients.discard(client)  # it has gone; the others still get the cheep


@app.route("/")
def index():
    return render_template("index.html", cheeps=all_cheeps())


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
