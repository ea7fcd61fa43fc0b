"""The messages Cheeper's server and pages exchange, the rules a cheep follows,
and every sentence the server says to a person when it refuses something.

client -> server   {"type": "cheep", "name": "...", "cheep": "...", "key": "<optional>"}
server -> client   {"type": "cheep", "id": 7, "name": "...", "cheep": "...", "time": "<ISO-8601, UTC>"}
                   (and "key", when the cheep was sent with one)
server -> client   {"type": "error", "message": "<why your last message was refused>"}
                   (and "key", when the refused cheep had one; "retry": true, when
                   the same cheep may be stored if it is sent again in a moment)
client -> server   {"type": "ping"}   answered with   {"type": "pong"}
server -> client   {"type": "removed", "id": 7, "seq": 3}   the instructor removed cheep 7
server -> client   {"type": "cleared", "up_to": 120, "seq": 4}   the instructor started afresh:
                   every cheep up to 120 is gone
                   ("seq" numbers the removals: GET /api/removals?since=<seq> catches up on them)

The instructor's page (and only it: anyone else gets an error) also sends
   {"type": "remove", "id": 7}      {"type": "mute", "id": 7, "what": "name" or "address"}
   {"type": "start-afresh"}         {"type": "unmute", "what": "name" or "address", "value": "..."}
and hears of mutes, {"type": "muted" or "unmuted", "what": ..., "value": ..., "label": ...},
and of the room's progress, {"type": "progress", "learner": ..., "name": ..., "step": ..., ...}.
The same instructor messages may be POSTed as JSON to /api/instructor.

A key is a random string the page makes for each cheep. The server stores a key
once: a cheep sent again with the same key (after a lost connection, say) is not
stored again. The stored cheep, with its key, goes back to the sender: that is
the sender's acknowledgement. A cheep without a key is stored as it comes.
"""

import json
import re

import limits
import text

NAME_LIMIT = 32
CHEEP_LIMIT = 76
PAGE = 50  # cheeps on the page, and in an answer of GET /api/cheeps unless it asks for fewer or more
LONGEST_PAGE = 200  # cheeps in one answer of GET /api/cheeps, at most
MESSAGE_LIMIT = 4096  # bytes in one WebSocket message: a cheep needs far fewer
KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")  # a crypto.randomUUID() fits, or 32 hex digits


class InvalidCheep(ValueError):
    """A message the server refuses. Its text says why, for the person who sent it;
    its status is the HTTP status that says it over HTTP; retry says whether the same
    cheep may be stored if it is sent again in a moment (too fast, storage away)."""

    def __init__(self, reason, status=400, retry=False):
        super().__init__(reason)
        self.status = status
        self.retry = retry


def read_message(message):
    """Return a WebSocket message as a dict whose "type" is "cheep" or "ping",
    or raise InvalidCheep. A cheep's name, cheep and key are checked apart."""
    if not isinstance(message, str):
        raise InvalidCheep("Binary messages are not accepted: send JSON text.")
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise InvalidCheep("That message is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidCheep('A message must be a JSON object: {"type": "cheep", ...}.')
    kind = data.get("type")
    if isinstance(kind, str) and kind in INSTRUCTOR_FIELDS:
        return data  # read_instructor_message() checks the rest, for the instructor only
    if kind not in ("cheep", "ping"):
        raise InvalidCheep('The message "type" must be "cheep" (or "ping").')
    if set(data) - {"type", "name", "cheep", "key"}:
        raise InvalidCheep('A message has only the fields "type", "name", "cheep" and "key".')
    return data


# What each of the instructor's messages holds, besides "type".
INSTRUCTOR_FIELDS = {"remove": {"id"}, "mute": {"id", "what"}, "unmute": {"what", "value"}, "start-afresh": set()}


def read_instructor_message(data):
    """Check an instructor's message (a dict, from the socket or a POST), or raise InvalidCheep."""
    kind = data.get("type")
    fields = INSTRUCTOR_FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        kinds = ", ".join(f'"{kind}"' for kind in INSTRUCTOR_FIELDS)
        raise InvalidCheep(f'The instructor\'s message "type" must be one of {kinds}.')
    if set(data) != {"type", *fields}:
        listed = ", ".join(f'"{field}"' for field in sorted(fields)) or "nothing"
        raise InvalidCheep(f'A "{data["type"]}" message holds {listed} besides its "type".')
    if "id" in fields and not (type(data["id"]) is int and 0 < data["id"] < 2**63):  # True is an int too
        raise InvalidCheep('"id" must be the id of a cheep: a whole number.')
    if "what" in fields and data["what"] not in ("name", "address"):
        raise InvalidCheep('"what" must be "name" or "address".')
    if "value" in fields and not isinstance(data["value"], str):
        raise InvalidCheep('"value" must be the name or address that was muted, as a string.')
    return data


def read_key(data, field="key"):
    """Return the key a cheep came with (data[field]), None when it has none, or raise InvalidCheep."""
    if field not in data:
        return None
    key = data[field]
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise InvalidCheep(f'"{field}" must be 16 to 64 letters, digits, "-" or "_", made at random for each cheep.')
    return key


def read_number(args, field, what="a cheep id"):
    """The cheep id (or the other number `what` says) in an address's ?field=, or
    None when the address has none; or raise InvalidCheep."""
    if field not in args:
        return None
    value = args[field]
    # isdigit() alone would let "²" through; int() would let " 7" and "+7" through,
    # and refuse more than 4,300 digits with an error. SQLite's integers end at 2**63 - 1.
    if not (value.isascii() and value.isdigit() and len(value) <= 19 and int(value) < 2**63):
        raise InvalidCheep(f'"{field}" must be {what}: a whole number, 0 or more.')
    return int(value)


def read_limit(args):
    """How many cheeps a page of GET /api/cheeps holds: ?limit=, or PAGE."""
    value = args.get("limit", str(PAGE))
    if not (value.isascii() and value.isdigit() and len(value) <= 3 and 1 <= int(value) <= LONGEST_PAGE):
        raise InvalidCheep(f'"limit" must be a whole number from 1 to {LONGEST_PAGE}.')
    return int(value)


def check_cheep(data):
    """Return the trimmed name and cheep from a dict or a form, or raise InvalidCheep."""
    return check_text(data, "name", NAME_LIMIT), check_text(data, "cheep", CHEEP_LIMIT)


def check_text(data, field, limit):
    """Return data[field] as it is stored, in NFC and trimmed, or raise InvalidCheep.
    `limit` counts characters as a reader sees them (text.py says why)."""
    if field not in data:
        raise InvalidCheep(f'"{field}" is missing.')
    value = data[field]
    if not isinstance(value, str):
        raise InvalidCheep(f'"{field}" must be a string.')
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # JSON can spell half a character: "\ud800"
        raise InvalidCheep(f'"{field}" holds half of a character: send whole characters.') from None
    value = text.tidy(value)
    if text.CONTROL.search(value):
        raise InvalidCheep(f'"{field}" holds a control character, such as a new line or a tab: send one line of text.')
    if text.DIRECTION.search(value):
        raise InvalidCheep(
            f'"{field}" holds a control that changes the direction of the text around it: send the text without it.'
        )
    if text.TOO_MANY_MARKS.search(value):
        raise InvalidCheep(f'"{field}" puts more than {text.MOST_MARKS} accents or marks on one letter: use fewer.')
    if not 1 <= text.characters(value) <= limit:
        raise InvalidCheep(f'"{field}" must be 1 to {limit} characters long.')
    if len(value) > text.code_point_limit(limit):
        raise InvalidCheep(
            f'"{field}" is too long: at most {text.code_point_limit(limit)} code points, '
            "and a flag or a family emoji takes several."
        )
    if not text.VISIBLE.search(value):
        raise InvalidCheep(
            f'"{field}" has nothing visible in it, only spaces, invisible characters or marks: '
            "write something people can read."
        )
    return value


def cheep_message(cheep):
    return {"type": "cheep", **cheep}


# What each message from the server holds: relay.py passes on a message another
# worker published only when it has these fields, of these types.
SERVER_MESSAGES = {
    "cheep": {"id": int, "name": str, "cheep": str, "time": str},
    "removed": {"id": int, "seq": int},
    "cleared": {"up_to": int, "seq": int},
    "muted": {"what": str, "value": str, "label": str},
    "unmuted": {"what": str, "value": str},
    "progress": {"learner": str, "name": str, "step": int, "kept": int, "promises": int, "time": str},
}


def is_server_message(message):
    """Whether a message has the fields its type needs, of the right types."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return False
    fields = SERVER_MESSAGES.get(message["type"])
    if fields is None or not all(type(message.get(field)) is kind for field, kind in fields.items()):
        return False  # type(...) is int: True and False are ints to isinstance()
    if "what" in fields and message["what"] not in ("name", "address"):
        return False
    if message["type"] == "progress":  # and the first promise not kept: a string, or None
        return "failing" in message and (message["failing"] is None or isinstance(message["failing"], str))
    return True


def removal_message(removal):
    """A removal from storage ({"seq", "id"} or {"seq", "up_to"}) as the pages hear of it."""
    return {"type": "removed" if "id" in removal else "cleared", **removal}


def check_progress(data):
    """Return the fields of a learner's progress report (sent by make check SHARE=...), or raise InvalidCheep."""
    if not isinstance(data, dict):
        raise InvalidCheep("Send the report as a JSON object.")
    expected = {"name", "step", "kept", "promises", "failing"}
    if set(data) != expected:
        raise InvalidCheep('A report holds "name", "step", "kept", "promises" and "failing", and nothing else.')
    name = check_text(data, "name", NAME_LIMIT)
    step, kept, promises = data["step"], data["kept"], data["promises"]
    if not (type(step) is int and 0 <= step <= LAST_STEP):
        raise InvalidCheep(f'"step" must be a whole number from 0 to {LAST_STEP}.')
    if not (type(promises) is int and type(kept) is int and 0 <= kept <= promises <= MOST_PROMISES):
        raise InvalidCheep(
            f'"kept" and "promises" must be whole numbers, with 0 <= kept <= promises <= {MOST_PROMISES}.'
        )
    failing = None if data["failing"] is None else check_text(data, "failing", FAILING_LIMIT)
    if (failing is None) != (kept == promises):
        raise InvalidCheep('"failing" names the first promise not kept, and is null when every one is kept.')
    return {"name": name, "step": step, "kept": kept, "promises": promises, "failing": failing}


LAST_STEP = 3  # the solution
MOST_PROMISES = 1000
FAILING_LIMIT = 200  # characters in the sentence of a promise


def error_message(reason, key=None, retry=False):
    """An error; with the key of the cheep it refuses, so that the page knows which one,
    and whether that cheep may be sent again."""
    message = {"type": "error", "message": reason}
    if key:
        message["key"] = key
    if retry:
        message["retry"] = True
    return message


PONG = {"type": "pong"}


# What the server says when it refuses something, in words, for the person who
# sent it. A {name} in braces is filled in with .format() where it is said.
TOO_FAST = (
    f"Too fast: at most {limits.CHEEP_BURST} cheeps at once from one computer, "
    f"then {limits.CHEEPS_PER_SECOND} a second. This one was not sent."
)
STORAGE_AWAY = "Cheeper cannot reach its storage just now: try again in a moment. Nothing was stored."
KEY_REUSED = "This key came with another cheep before: make a new key for each cheep. Nothing was stored."
NOT_A_FORM = "Send the cheep as a form or as a JSON object."
NOT_A_JSON_OBJECT = "Send a JSON object, with Content-Type: application/json."
SINCE_OR_BEFORE = 'Ask for the cheeps "since" an id or "before" one, not both.'
TOO_BIG = f"Too big: a cheep is sent in at most {limits.BODY_LIMIT} bytes."
# The instructor's tools: docs/instructor-guide.md.
REMOVED = "The instructor removed this cheep, so it is not sent again."
MUTED = "Your cheeps are paused for now: the instructor can tell you more. Nothing was sent."
INSTRUCTOR_ONLY = "Only the instructor can do that."
TOO_MANY_CLICKS = "Too many clicks at once: wait a moment, then click again. That one was not done."
NO_SUCH_CHEEP = "There is no such cheep: it was removed already, or never stored."
NO_ADDRESS = (
    "Cheeper does not know the address of that cheep (it was stored before addresses were): mute the name instead."
)
WRONG_LINK = (
    "That instructor link is not the right one. Copy it again from the window where Cheeper runs, "
    "as Cheeper printed it when it last started."
)

# A socket's address opened the wrong way. The first answers a page request to
# it; the second, a view that finds no WebSocket: the app was started with
# 'flask run', which cannot open one.
NOT_A_PAGE = "This address speaks WebSocket: open it with new WebSocket(...), not as a page."
NO_WEBSOCKET_HERE = (
    "No WebSocket here: open this address with new WebSocket(...), and start the app "
    "with 'python server.py' (gevent-websocket), not with 'flask run'."
)

# Why a socket is closed, in its close frame (sockets.py).
MESSAGE_TOO_BIG = f"Message too big: the limit is {MESSAGE_LIMIT} bytes."
TOO_MANY_FRAMES = f"Too many frames: at most {limits.FRAME_BURST} at once, then {limits.FRAMES_PER_SECOND} a second."
RESTARTING = "Cheeper is restarting."

# Connections and requests refused before Cheeper's own code sees them (handler.py).
FULL = f"Cheeper is full: it holds {limits.CAPACITY} connections at most. Try again in a minute."
TOO_MANY_CONNECTIONS = (
    f"At most {limits.CONNECTIONS_PER_ADDRESS} connections from one address: close a few Cheeper pages."
)
TOO_MANY_SOCKETS = f"At most {limits.SOCKETS_PER_ADDRESS} sockets from one address: close a few Cheeper pages."
ADDRESS_TOO_LONG = "The address asked for is too long."
HEAD_TOO_BIG = f"The request's headers are too big: at most {limits.HEAD_LIMIT} bytes, in 100 lines."
UNREADABLE = "Cheeper cannot read this request: {error}"
UNKNOWN_HOST = (
    "Cheeper does not answer to the name {host}: open it by its IP address or as localhost, "
    "or list the name in CHEEPER_ALLOWED_HOSTS."
)
OTHER_SITE = "Pages from {origin} may not open Cheeper's socket."
HANDSHAKE_NOT_HTTP_1_1 = "A WebSocket handshake is made over HTTP/1.1."
WEBSOCKET_VERSION = "Cheeper speaks WebSocket version 13, and this handshake asks for {version}."
WEBSOCKET_KEY = "Sec-WebSocket-Key must be 16 random bytes, in base64."
