"""Cheeper, the solution: the realtime app, done properly.

Step 2's app, plus what a room full of people needs: the server checks every
cheep and says what is wrong with a bad one, pages catch up on cheeps they
missed (GET /api/cheeps?since=<id>), and the page reconnects by itself.
The feed comes a page at a time, so a feed of 50,000 cheeps loads as fast as one of 50.
Nobody can slow down or knock over the others: not a slow or vanished page,
not a flood of messages or connections from one laptop, not another site's page.
The instructor can take a cheep back from every page, mute, start afresh, and
see the room's progress (instructor.py, and docs/instructor-guide.md).

The rules a cheep follows, and the errors about it, live in protocol.py, the
SQLite code in storage.py, sending to every page in broadcasting.py, what one
person may do in limits.py, the checks on each connection in handler.py, and
on each socket in sockets.py.
For several workers (docs/many-workers.md), relay.py shares the cheeps
through Redis, and redis_storage.py keeps them there.
"""
# gevent swaps Python's blocking network calls for ones that let thousands of
# connections wait at once. It must patch them before anything else is imported.
from gevent import monkey

monkey.patch_all()

import json
import logging
import os
import secrets
import signal
import sys
from datetime import datetime, timezone

import gevent
from flask import Flask, jsonify, redirect, render_template, request, url_for
from gevent.pywsgi import WSGIServer
from geventwebsocket.exceptions import WebSocketError
from werkzeug.routing import WebsocketMismatch

import addresses
import broadcasting
import instructor
import limits
import protocol
import sockets
from handler import CheckedHandler
from protocol import InvalidCheep

# Where the cheeps are kept: a SQLite file, or a Redis that workers on several
# machines share (CHEEPER_DB=redis://...).
if os.environ.get("CHEEPER_DB", "").startswith(("redis://", "rediss://")):
    import redis_storage as storage
else:
    import storage
storage.create_table()  # in every worker, whether started as 'python server.py' or by gunicorn

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "5000"))
REDIS_URL = os.environ.get("CHEEPER_REDIS_URL")  # set when several workers run side by side

# How a cheep, or the instructor's removal, reaches every page: this worker's
# own pages, or (several workers) every worker's, through Redis.
if REDIS_URL:
    from relay import Relay

    relay = Relay(REDIS_URL, storage)
    broadcast, announce = relay.broadcast, relay.announce
else:
    broadcast, announce = broadcasting.broadcast, broadcasting.announce

logging.basicConfig(format="[%(process)d] %(message)s")
logging.getLogger("cheeper").setLevel(logging.INFO)  # what relay.py says about Redis

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = limits.BODY_LIMIT  # bytes in a POST; a cheep needs far fewer


@app.after_request
def only_our_own_code(response):
    # The browser runs scripts and opens sockets from this app's own address
    # only, and never guesses that a file is a script when we said it is not.
    host = request.host
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; connect-src 'self' ws://{host} wss://{host}; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def refuse(reason, status=400):
    return jsonify(protocol.error_message(reason)), status


def visitor():
    """The person who sent this request: their cheeps are counted together (limits.py).
    CheckedHandler finds them; under 'flask run', their address."""
    return request.environ.get("cheeper.visitor") or limits.visitor(request.remote_addr)


def save(name, text, key=None):
    """Store a cheep; return it, and whether it is new. A key stored before gives
    back the cheep stored with it. Raises InvalidCheep when it cannot be stored."""
    address = visitor().address
    if instructor.refuses(name, address):
        raise InvalidCheep(protocol.MUTED, 403)
    try:
        cheep, new = storage.save_cheep(name, text, key, address)
    except storage.Unavailable as error:
        app.logger.warning("A cheep was not stored: %s", error)
        raise InvalidCheep(protocol.STORAGE_AWAY, 503, retry=True) from None
    if cheep.get("removed"):  # sent again, after the instructor removed it
        raise InvalidCheep(protocol.REMOVED, 410)
    if (cheep["name"], cheep["cheep"]) != (name, text):  # the key of another cheep
        raise InvalidCheep(protocol.KEY_REUSED, 422)
    return cheep, new


@app.route("/")
def index():
    """The newest page of cheeps; /?before=<id>, the page of cheeps older than that."""
    try:
        before = read_number("before")
    except InvalidCheep as error:
        return f"{error}\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
    # The removals first: one made while the cheeps are read is told to the page again, which does no harm.
    newest_removal = storage.newest_removal()
    cheeps = storage.newest_cheeps(protocol.PAGE + 1, before)  # one more: is there an older page?
    page = render_template(
        "index.html",
        instructor=instructor.has_session(request),
        muted=instructor.muted,
        newest_removal=newest_removal,
        cheeps=cheeps[: protocol.PAGE],
        older=cheeps[protocol.PAGE - 1]["id"] if len(cheeps) > protocol.PAGE else None,
        reading_older=before is not None,
        # A new key with each page: a form sent twice (a double click, a resubmit) stores one cheep.
        form_key=secrets.token_urlsafe(16),
        name_limit=protocol.NAME_LIMIT,
        cheep_limit=protocol.CHEEP_LIMIT,
    )
    # Never from the browser's cache: the Back button brings a fresh page, with a fresh key.
    return page, {"Cache-Control": "no-store"}


def read_number(field, what="a cheep id"):
    """The cheep id (or the other number `what` says) in ?field=, or None when the address has none."""
    if field not in request.args:
        return None
    value = request.args[field]
    # isdigit() alone would let "²" through; int() would let " 7" and "+7" through,
    # and refuse more than 4,300 digits with an error. SQLite's integers end at 2**63 - 1.
    if not (value.isascii() and value.isdigit() and len(value) <= 19 and int(value) < 2**63):
        raise InvalidCheep(f'"{field}" must be {what}: a whole number, 0 or more.')
    return int(value)


@app.route("/api/cheep", methods=["POST"])
def post_cheep():
    """A cheep from the form (a page without JavaScript) or as JSON (curl, scripts)."""
    if not visitor().cheeps.allow():  # the same allowance as the person's sockets
        return too_fast()
    try:
        data = request.get_json(silent=True) if request.is_json else request.form
    except RecursionError:  # JSON nested thousands deep
        data = None
    if not isinstance(data, dict):
        return refuse("Send the cheep as a form or as a JSON object.")
    try:
        # The same key twice stores one cheep. A script sends its key in the
        # Idempotency-Key header, as HTTP APIs do (or as "key", as on the socket);
        # the form, in a hidden field.
        key = protocol.read_key(request.headers, "Idempotency-Key") or protocol.read_key(data)
        name, text = protocol.check_cheep(data)
        cheep, new = save(name, text, key)  # stored first: a broadcast cheep is never lost
    except InvalidCheep as error:
        return refuse(str(error), error.status)
    if new:
        broadcast(cheep)
    if request.is_json:
        return jsonify(protocol.cheep_message(cheep)), 201
    # 303 See Other: the browser follows it with a GET, so reloading the page
    # afterwards does not post the same cheep again.
    return redirect("/", code=303)


@app.route("/api/cheeps")
def cheeps_page():
    """One page of cheeps, as JSON. ?since=<id>: the cheeps after it, oldest first
    (what a reconnecting page missed). Otherwise the newest, or with ?before=<id>
    the ones older than it, newest first (the feed, page by page). When more are
    left, a Link header gives the address of the next page."""
    try:
        since, before = read_number("since"), read_number("before")
        limit = read_limit()
        if since is not None and before is not None:
            raise InvalidCheep('Ask for the cheeps "since" an id or "before" one, not both.')
    except InvalidCheep as error:
        return refuse(str(error))
    # One more than asked for: if it comes, there is a next page, after the last one sent.
    if since is not None:
        cheeps = storage.cheeps_since(since, limit + 1)
    else:
        cheeps = storage.newest_cheeps(limit + 1, before)
    headers = {}
    if len(cheeps) > limit:  # a Link header: HTTP's own way to link pages (RFC 8288), as GitHub's API does
        last = cheeps[limit - 1]["id"]
        if since is not None:
            next_page = url_for("cheeps_page", since=last, limit=limit)
        else:
            next_page = url_for("cheeps_page", before=last, limit=limit)
        headers["Link"] = f'<{next_page}>; rel="next"'
    return jsonify([protocol.cheep_message(cheep) for cheep in cheeps[:limit]]), headers


@app.route("/api/removals")
def removals():
    """What the instructor removed since ?since=<seq>, oldest first: a page that
    was away catches up on it as on the cheeps."""
    try:
        since = read_number("since", "the number of a removal") or 0
    except InvalidCheep as error:
        return refuse(str(error))
    return jsonify([protocol.removal_message(removal) for removal in storage.removals_since(since)])


def read_limit():
    """How many cheeps a page of /api/cheeps holds: ?limit=, or protocol.PAGE."""
    value = request.args.get("limit", str(protocol.PAGE))
    if not (value.isascii() and value.isdigit() and len(value) <= 3 and 1 <= int(value) <= protocol.LONGEST_PAGE):
        raise InvalidCheep(f'"limit" must be a whole number from 1 to {protocol.LONGEST_PAGE}.')
    return int(value)


@app.route("/instructor")
def become_instructor():
    """The link Cheeper prints as it starts: it makes this browser the instructor's."""
    if not visitor().cheeps.allow():  # a guess costs as much as a cheep
        return too_fast()
    if not instructor.key_matches(request.args.get("key", "")):
        return protocol.WRONG_LINK + "\n", 403, {"Content-Type": "text/plain; charset=utf-8"}
    # 303 to the feed: the key leaves the address bar as soon as it has done its job.
    response = redirect("/", code=303)
    # HttpOnly: no script can read it. SameSite=Strict: the browser sends it with
    # requests from Cheeper's own pages only, never from another site's.
    response.set_cookie(instructor.COOKIE, instructor.SESSION, httponly=True, samesite="Strict")
    return response


@app.route("/instructor/board")
def board():
    """The room's progress, for the instructor: what make check SHARE=... reported."""
    if not instructor.has_session(request):
        return protocol.INSTRUCTOR_ONLY + "\n", 403, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("board.html", rows=instructor.board_rows()), {"Cache-Control": "no-store"}


@app.route("/api/instructor", methods=["POST"])
def instructor_action():
    """The instructor's messages, as JSON, for scripts: the same ones the instructor's page sends on its socket."""
    if not instructor.may_act(request):
        return refuse(protocol.INSTRUCTOR_ONLY, 403)
    if not visitor().cheeps.allow():  # the same allowance as the instructor's cheeps
        return too_fast()
    try:
        message = act(protocol.read_instructor_message(read_json_object()))
    except InvalidCheep as error:
        return refuse(str(error), error.status)
    return jsonify(message)


def act(data):
    """Carry out an instructor's message (checked already) on every page; return what the pages hear."""
    try:
        message = instructor_message(data)
    except storage.Unavailable as error:
        app.logger.warning("The storage could not be reached: %s", error)
        raise InvalidCheep(protocol.STORAGE_AWAY, 503) from None
    announce(message)
    return message


def instructor_message(data):
    """What the pages hear of an instructor's message, once the storage has done its part."""
    if data["type"] == "remove":
        removal = storage.remove_cheep(data["id"])
        if removal is None:
            raise InvalidCheep(protocol.NO_SUCH_CHEEP, 404)
        return protocol.removal_message(removal)
    if data["type"] == "start-afresh":
        return protocol.removal_message(storage.remove_all())
    if data["type"] == "mute":
        sender = storage.sender_of(data["id"])  # the cheep's name, and the address it came from
        if sender is None:
            raise InvalidCheep(protocol.NO_SUCH_CHEEP, 404)
        name, address = sender
        if data["what"] == "address" and address is None:
            raise InvalidCheep(protocol.NO_ADDRESS, 404)
        return instructor.mute_message(data["what"], name if data["what"] == "name" else address, name)
    return {"type": "unmuted", "what": data["what"], "value": data["value"]}


@app.route("/api/progress")
def room_progress():
    """The board's rows, for the instructor's board when it reconnects."""
    if not instructor.has_session(request):
        return refuse(protocol.INSTRUCTOR_ONLY, 403)
    return jsonify(instructor.board_rows())


@app.route("/api/progress", methods=["POST"])
def progress():
    """A learner's progress, sent by make check SHARE=...: onto the instructor's board."""
    if not visitor().cheeps.allow():  # the same allowance as a person's cheeps
        return too_fast()
    try:
        report = protocol.check_progress(read_json_object())
    except InvalidCheep as error:
        return refuse(str(error), error.status)
    message = {
        "type": "progress",
        "learner": instructor.learner(visitor().address, report["name"]),
        **report,
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),  # the board sorts by it
    }
    announce(message)
    return jsonify(message), 201


def read_json_object():
    """The request's body, a JSON object, or raise InvalidCheep."""
    try:
        data = request.get_json(silent=True) if request.is_json else None
    except RecursionError:  # JSON nested thousands deep
        data = None
    if not isinstance(data, dict):
        raise InvalidCheep("Send a JSON object, with Content-Type: application/json.")
    return data


def too_fast():
    reason, status = refuse(protocol.TOO_FAST, 429)
    return reason, status, {"Retry-After": str(visitor().cheeps.seconds_to_wait())}


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
    cheeps = visitor().cheeps  # shared with the person's other sockets, and their POSTs
    # Checked as the socket opens: the handshake carries the cookie and the page's Origin.
    for_the_instructor = instructor.may_act(request)
    with broadcasting.listening(websocket, for_the_instructor):
        try:
            while True:
                message = websocket.receive()
                if message is None:  # the client closed the connection
                    break
                answer(websocket, message, cheeps, for_the_instructor)
        except WebSocketError:
            pass  # it was closed meanwhile: dropped, or the server is stopping
    return ""


def answer(websocket, message, cheeps, for_the_instructor=False):
    """Store a cheep and send it to every page, answer a ping, carry out the
    instructor's message, or say what is wrong."""
    allowed = cheeps.allow()  # every message counts, a refused one too
    key = None
    try:
        data = protocol.read_message(message)
        if data["type"] == "ping":  # the page checks that the connection still works
            websocket.send(json.dumps(protocol.PONG))
            return
        if data["type"] in protocol.INSTRUCTOR_FIELDS:
            if not for_the_instructor:
                raise InvalidCheep(protocol.INSTRUCTOR_ONLY, 403)
            if not allowed:  # the instructor's clicks count too: a stuck key cannot flood the room
                raise InvalidCheep(protocol.TOO_MANY_CLICKS)
            act(protocol.read_instructor_message(data))  # its page hears of it with every other
            return
        # The key first, so that a refusal, "too fast" too, names the cheep it refuses.
        key = protocol.read_key(data)
        if not allowed:
            raise InvalidCheep(protocol.TOO_FAST, retry=True)
        name, text = protocol.check_cheep(data)
        cheep, new = save(name, text, key)
    except InvalidCheep as error:
        # Only the sender hears about it; the connection stays open.
        websocket.send(json.dumps(protocol.error_message(str(error), key, error.retry)))
        return
    if new:
        broadcast(cheep)  # the sender's page gets it too: with its key, that is its acknowledgement
    else:  # its key was stored before: sent again, so only the sender hears of it
        websocket.send(json.dumps(protocol.cheep_message(cheep)))


@app.errorhandler(WebsocketMismatch)
def not_a_websocket(error):
    return "This address speaks WebSocket: open it with new WebSocket(...), not as a page.\n", 400


@app.errorhandler(413)
def too_big(error):
    return refuse(f"Too big: a cheep is sent in at most {app.config['MAX_CONTENT_LENGTH']} bytes.", 413)


@app.errorhandler(storage.Unavailable)
def storage_away(error):
    app.logger.warning("The storage could not be reached: %s", error)
    return refuse(protocol.STORAGE_AWAY, 503)


gevent.spawn(sockets.ping_forever)  # in every worker, too

if __name__ == "__main__":
    server = WSGIServer((HOST, PORT), app, handler_class=CheckedHandler)
    try:
        server.start()
    except OSError as error:
        sys.exit(
            f"Cannot listen on {HOST}:{PORT}: {error.strerror}.\n"
            f"If port {PORT} is in use, pick another one with the PORT environment variable,\n"
            f"for example: PORT=5001 python {sys.argv[0]}\n"
            "(On macOS, AirPlay Receiver holds port 5000.)"
        )
    if HOST in ("0.0.0.0", "::"):  # every network address of this computer
        print(f"Cheeper is running: open http://localhost:{PORT}/ on this computer,")
        print(addresses.for_the_room(HOST, PORT))  # http://192.168.1.20:5000/, say
    else:
        print(f"Cheeper is running on http://{HOST}:{PORT}/")
    print(f"It holds up to {limits.CAPACITY} connections at once.")
    instructor.print_link(HOST, PORT)
    print("Press Ctrl+C to stop it.")

    def stop():
        # 1001, "going away": the pages reconnect as soon as the server is back.
        sockets.close_all(1001, "Cheeper is restarting.")
        server.stop(timeout=2)

    gevent.signal_handler(signal.SIGINT, stop)  # Ctrl+C
    gevent.signal_handler(signal.SIGTERM, stop)  # kill, systemd, docker stop
    server.serve_forever()
