"""The instructor's hands: who the instructor is, who is muted, and the room's progress.

At start Cheeper prints a link holding a random key (as Jupyter does with its
token). Opening it gives that browser a cookie that makes it the instructor's:
its page can remove cheeps, mute a name or an address, and start afresh, and
it can see the board of the room's progress. Nobody else can, and nobody else
ever sees the key: it is in no page, and not in the log after the first line.

Mutes and the board are kept in memory, for this run: a restart forgets them.
With several workers, each hears of them through Redis, which keeps them too,
for a worker that starts late (relay.py).
"""

import hashlib
import hmac
import os
import secrets
import sys

# Several workers must share one key: gunicorn.conf.py sets it for all of them.
KEY = os.environ.get("CHEEPER_INSTRUCTOR_KEY") or secrets.token_urlsafe(24)
if len(KEY) < 16:
    sys.exit("CHEEPER_INSTRUCTOR_KEY must be at least 16 characters long, so that nobody can guess it.")
COOKIE = "cheeper_instructor"
# What the cookie holds: made from the key, so that it is the same on every worker,
# and changes when the key does. It is not the key itself, which stays in the link.
SESSION = hmac.new(KEY.encode(), b"the instructor's browser", hashlib.sha256).hexdigest()
BOARD_LIMIT = 500  # learners on the board; past that, the one heard from longest ago goes


def print_link(host, port):
    """The only place the key is ever shown: the link that makes a browser the instructor's."""
    if host in ("0.0.0.0", "::", "[::]"):  # every address of this computer: its own name for itself
        host = "localhost"
    print(f"Instructor: open http://{host}:{port}/instructor?key={KEY}")
    print("in your own browser, and keep the link to yourself: it lets you remove cheeps and see the board.")


def key_matches(given):
    # compare_digest takes as long however much of the key is right: timing
    # the answers cannot tell a guesser how close they came.
    return hmac.compare_digest(given.encode(), KEY.encode())


def has_session(request):
    """Whether the request comes from the instructor's browser: it carries the cookie."""
    return hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), SESSION.encode())


def may_act(request):
    """Whether the request may act as the instructor: the cookie, and from a page of
    Cheeper's own. (SameSite=Strict already keeps the cookie off other sites'
    requests; the Origin check holds even in a browser that ignores it.)"""
    host = request.host
    return has_session(request) and request.headers.get("Origin") in (f"http://{host}", f"https://{host}")


# What is muted: for each of "name" and "address", what was muted -> who it was muted for.
muted = {"name": {}, "address": {}}


def mute_message(what, value, label):
    """A mute as the workers and the instructor's pages hear of it. A name is
    muted however it is capitalised."""
    return {"type": "muted", "what": what, "value": value.casefold() if what == "name" else value, "label": label}


def refuses(name, address):
    """Whether cheeps from this name or address are muted."""
    return name.casefold() in muted["name"] or address in muted["address"]


# The room's progress: learner -> their latest report, as a "progress" message.
board = {}


def learner(address, name):
    """Who sent a report: one row on the board for each name on each laptop, named
    without showing the laptop's address (mixed with the key, so it cannot be worked back)."""
    return hmac.new(KEY.encode(), f"{address}\n{name}".encode(), hashlib.sha256).hexdigest()[:16]


def board_rows():
    """The board, the learners who look stuck first: the earliest step, failing
    before passing, and of those, the one who has been at it longest."""
    return sorted(board.values(), key=lambda row: (row["step"], row["failing"] is None, row["time"]))


def hear(message):
    """Remember a mute, an unmute or a report, from this worker or another."""
    if message["type"] == "muted":
        muted[message["what"]][message["value"]] = message["label"]
    elif message["type"] == "unmuted":
        muted[message["what"]].pop(message["value"], None)
    elif message["type"] == "progress":
        board[message["learner"]] = message
        if len(board) > BOARD_LIMIT:
            del board[min(board, key=lambda learner: board[learner]["time"])]
    elif message["type"] == "cleared":
        # A new workshop: its people start unmuted, and with an empty board.
        muted["name"].clear()
        muted["address"].clear()
        board.clear()
