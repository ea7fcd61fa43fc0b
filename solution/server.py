"""Cheeper, the solution: the realtime app, done properly.

Step 2's app, plus what a room full of people needs: the server checks every
cheep and says what is wrong with a bad one, pages catch up on cheeps they
missed (GET /api/cheeps?since=<id>), and the page reconnects by itself.
The feed comes a page at a time, so a feed of 50,000 cheeps loads as fast as one of 50.
Nobody can slow down or knock over the others: not a slow or vanished page,
not a flood of messages or connections from one laptop, not another site's page.
The instructor can take a cheep back from every page, mute, start afresh, and
see the room's progress (instructor.py, and docs/instructor-guide.md).

create_app() builds the app: where the cheeps are kept, how they reach every
page, and what runs beside the views, all chosen there, in one place. The
views below it answer each address.

The other files, one job each:
- protocol.py: the rules a cheep follows, and every sentence the server says
  to a person when it refuses something;
- storage.py: the SQLite code;
- broadcasting.py: sending to every page;
- limits.py: what one person may do;
- handler.py: the checks on each connection; sockets.py, on each socket;
- all_sockets.py: the pings, and the goodbye to every socket;
- addresses.py: the addresses the room can open, printed as it starts;
- for several workers (docs/many-workers.md): relay.py shares the cheeps
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
from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, url_for
from gevent.pywsgi import WSGIServer
from geventwebsocket.exceptions import WebSocketError
from werkzeug.routing import WebsocketMismatch

import addresses
import all_sockets
import broadcasting
import instructor
import limits
import protocol
from handler import CheckedHandler
from protocol import InvalidCheep

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "5000"))

# Every view of Cheeper. A Blueprint is a set of views that create_app() adds to
# the app it builds: @views.route is @app.route, for an app not built yet. Its
# views' names start with "views.": url_for("views.cheeps_page").
views = Blueprint("views", __name__)


def create_app():
    """Build Cheeper's app, with every choice it makes as it starts, in this one
    place (as Flask's own tutorial does). Call it once in a process: 'python
    server.py' does, and gunicorn once in each worker (gunicorn.conf.py). A
    second call would start a second round of pings."""
    logging.basicConfig(format="[%(process)d] %(message)s")
    logging.getLogger("cheeper").setLevel(logging.INFO)  # what relay.py says about Redis

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = limits.BODY_LIMIT  # bytes in a POST; a cheep needs far fewer

    # Where the cheeps are kept: a SQLite file, or a Redis that workers on several
    # machines share (CHEEPER_DB=redis://...). The views use current_app.storage.
    if os.environ.get("CHEEPER_DB", "").startswith(("redis://", "rediss://")):
        import redis_storage as storage  # only when chosen: it connects to that Redis
    else:
        import storage
    storage.create_table()
    app.storage = storage
    # A request that finds the storage away gets a 503 from storage_away(), below.
    # A socket's message has no error handler: answer() tells its sender itself.
    app.register_error_handler(storage.Unavailable, storage_away)

    # How a cheep, or the instructor's removal, reaches every page: this worker's
    # own pages, or (several workers side by side) every worker's, through Redis.
    # The views call current_app.broadcast and current_app.announce.
    redis_url = os.environ.get("CHEEPER_REDIS_URL")
    if redis_url:
        from relay import Relay

        relay = Relay(redis_url, storage)
        relay.start()
        app.broadcast, app.announce = relay.broadcast, relay.announce
    else:
        app.broadcast, app.announce = broadcasting.broadcast, broadcasting.announce

    app.register_blueprint(views)
    gevent.spawn(all_sockets.ping_forever)  # in the background, for as long as the server runs
    return app


@views.after_app_request
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
    back the cheep stored with it. Raises InvalidCheep when it may not be stored,
    and storage.Unavailable when the storage cannot be reached."""
    address = visitor().address
    if instructor.refuses(name, address):
        raise InvalidCheep(protocol.MUTED, 403)
    cheep, new = current_app.storage.save_cheep(name, text, key, address)
    if cheep.get("removed"):  # sent again, after the instructor removed it
        raise InvalidCheep(protocol.REMOVED, 410)
    if (cheep["name"], cheep["cheep"]) != (name, text):  # the key of another cheep
        raise InvalidCheep(protocol.KEY_REUSED, 422)
    return cheep, new


@views.route("/")
def index():
    """The newest page of cheeps; /?before=<id>, the page of cheeps older than that."""
    try:
        before = protocol.read_number(request.args, "before")
    except InvalidCheep as error:
        return f"{error}\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
    # The removals first: one made while the cheeps are read is told to the page again, which does no harm.
    newest_removal = current_app.storage.newest_removal()
    cheeps = current_app.storage.newest_cheeps(protocol.PAGE + 1, before)  # one more: is there an older page?
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


@views.route("/api/cheep", methods=["POST"])
def post_cheep():
    """A cheep from the form (a page without JavaScript) or as JSON (curl, scripts)."""
    if not visitor().cheeps.allow():  # the same allowance as the person's sockets
        return too_fast()
    try:
        data = request.get_json(silent=True) if request.is_json else request.form
    except RecursionError:  # JSON nested thousands deep
        data = None
    if not isinstance(data, dict):
        return refuse(protocol.NOT_A_FORM)
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
        current_app.broadcast(cheep)
    if request.is_json:
        return jsonify(protocol.cheep_message(cheep)), 201
    # 303 See Other: the browser follows it with a GET, so reloading the page
    # afterwards does not post the same cheep again.
    return redirect("/", code=303)


@views.route("/api/cheeps")
def cheeps_page():
    """One page of cheeps, as JSON. ?since=<id>: the cheeps after it, oldest first
    (what a reconnecting page missed). Otherwise the newest, or with ?before=<id>
    the ones older than it, newest first (the feed, page by page). When more are
    left, a Link header gives the address of the next page."""
    try:
        since, before = protocol.read_number(request.args, "since"), protocol.read_number(request.args, "before")
        limit = protocol.read_limit(request.args)
        if since is not None and before is not None:
            raise InvalidCheep(protocol.SINCE_OR_BEFORE)
    except InvalidCheep as error:
        return refuse(str(error))
    # One more than asked for: if it comes, there is a next page, after the last one sent.
    if since is not None:
        cheeps = current_app.storage.cheeps_since(since, limit + 1)
    else:
        cheeps = current_app.storage.newest_cheeps(limit + 1, before)
    headers = {}
    if len(cheeps) > limit:  # a Link header: HTTP's own way to link pages (RFC 8288), as GitHub's API does
        last = cheeps[limit - 1]["id"]
        if since is not None:
            next_page = url_for("views.cheeps_page", since=last, limit=limit)
        else:
            next_page = url_for("views.cheeps_page", before=last, limit=limit)
        headers["Link"] = f'<{next_page}>; rel="next"'
    return jsonify([protocol.cheep_message(cheep) for cheep in cheeps[:limit]]), headers


@views.route("/api/removals")
def removals():
    """What the instructor removed since ?since=<seq>, oldest first: a page that
    was away catches up on it as on the cheeps."""
    try:
        since = protocol.read_number(request.args, "since", "the number of a removal") or 0
    except InvalidCheep as error:
        return refuse(str(error))
    removals = current_app.storage.removals_since(since)
    return jsonify([protocol.removal_message(removal) for removal in removals])


@views.route("/instructor")
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


@views.route("/instructor/board")
def board():
    """The room's progress, for the instructor: what make check SHARE=... reported."""
    if not instructor.has_session(request):
        return protocol.INSTRUCTOR_ONLY + "\n", 403, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("board.html", rows=instructor.board_rows()), {"Cache-Control": "no-store"}


@views.route("/api/instructor", methods=["POST"])
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
    message = instructor_message(data)
    current_app.announce(message)
    return message


def instructor_message(data):
    """What the pages hear of an instructor's message, once the storage has done its part."""
    storage = current_app.storage
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


@views.route("/api/progress")
def room_progress():
    """The board's rows, for the instructor's board when it reconnects."""
    if not instructor.has_session(request):
        return refuse(protocol.INSTRUCTOR_ONLY, 403)
    return jsonify(instructor.board_rows())


@views.route("/api/progress", methods=["POST"])
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
    current_app.announce(message)
    return jsonify(message), 201


def read_json_object():
    """The request's body, a JSON object, or raise InvalidCheep."""
    try:
        data = request.get_json(silent=True) if request.is_json else None
    except RecursionError:  # JSON nested thousands deep
        data = None
    if not isinstance(data, dict):
        raise InvalidCheep(protocol.NOT_A_JSON_OBJECT)
    return data


def too_fast():
    reason, status = refuse(protocol.TOO_FAST, 429)
    return reason, status, {"Retry-After": str(visitor().cheeps.seconds_to_wait())}


# websocket=True: without it Flask refuses the WebSocket request (Werkzeug's
# WebsocketMismatch) and the connection closes as soon as it opens.
@views.route("/echo", websocket=True)
def echo():
    websocket = request.environ.get("wsgi.websocket")
    if websocket is None:  # under 'flask run', which cannot open one
        return protocol.NO_WEBSOCKET_HERE + "\n", 400
    while True:
        message = websocket.receive()
        if message is None:  # the client closed the connection
            break
        websocket.send(message)
    return ""


@views.route("/ws", websocket=True)
def ws():
    websocket = request.environ.get("wsgi.websocket")
    if websocket is None:  # under 'flask run', which cannot open one
        return protocol.NO_WEBSOCKET_HERE + "\n", 400
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
    except current_app.storage.Unavailable as error:  # data is read: only InvalidCheep comes before
        log_storage_away(error)
        # The same cheep may go through in a moment: retry tells the page to send it again.
        retry = data["type"] == "cheep"
        websocket.send(json.dumps(protocol.error_message(protocol.STORAGE_AWAY, key, retry)))
        return
    if new:
        current_app.broadcast(cheep)  # the sender's page gets it too: with its key, that is its acknowledgement
    else:  # its key was stored before: sent again, so only the sender hears of it
        websocket.send(json.dumps(protocol.cheep_message(cheep)))


@views.app_errorhandler(WebsocketMismatch)
def not_a_websocket(error):
    return protocol.NOT_A_PAGE + "\n", 400


@views.app_errorhandler(413)
def too_big(error):
    return refuse(protocol.TOO_BIG, 413)


def storage_away(error):
    """The answer to any request that finds the storage away (create_app() makes it the error handler)."""
    log_storage_away(error)
    return refuse(protocol.STORAGE_AWAY, 503)


def log_storage_away(error):
    current_app.logger.warning("The storage could not be reached: %s", error)


if __name__ == "__main__":
    app = create_app()
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
        all_sockets.say_goodbye()  # the pages reconnect as soon as the server is back
        server.stop(timeout=2)

    gevent.signal_handler(signal.SIGINT, stop)  # Ctrl+C
    gevent.signal_handler(signal.SIGTERM, stop)  # kill, systemd, docker stop
    server.serve_forever()
