"""The messages Cheeper's server and pages exchange, and the rules a cheep follows.

client -> server   {"type": "cheep", "name": "...", "cheep": "..."}
server -> client   {"type": "cheep", "id": 7, "name": "...", "cheep": "...", "time": "<ISO-8601, UTC>"}
server -> client   {"type": "error", "message": "<why your last message was refused>"}
"""
import json
import time

NAME_LIMIT = 32
CHEEP_LIMIT = 76
MESSAGE_LIMIT = 4096  # bytes in one WebSocket message: a cheep needs far fewer
BURST = 10  # cheeps one connection may send at once...
PER_SECOND = 5  # ...and then, on average, each second


class InvalidCheep(ValueError):
    """A message the server refuses; its text says why, for the person who sent it."""


def read_cheep(message):
    """Return (name, cheep) from a WebSocket message, or raise InvalidCheep."""
    if not isinstance(message, str):
        raise InvalidCheep("Binary messages are not accepted: send JSON text.")
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise InvalidCheep("That message is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidCheep('A message must be a JSON object: {"type": "cheep", ...}.')
    if data.get("type") != "cheep":
        raise InvalidCheep('The message "type" must be "cheep".')
    if set(data) - {"type", "name", "cheep"}:
        raise InvalidCheep('A cheep has only the fields "type", "name" and "cheep".')
    return check_cheep(data)


def check_cheep(data):
    """Return the trimmed name and cheep from a dict or a form, or raise InvalidCheep."""
    return check_text(data, "name", NAME_LIMIT), check_text(data, "cheep", CHEEP_LIMIT)


def check_text(data, field, limit):
    if field not in data:
        raise InvalidCheep(f'"{field}" is missing.')
    value = data[field]
    if not isinstance(value, str):
        raise InvalidCheep(f'"{field}" must be a string.')
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # JSON can spell half a character: "\ud800"
        raise InvalidCheep(f'"{field}" holds half of a character: send whole characters.') from None
    if not 1 <= len(value) <= limit:
        raise InvalidCheep(f'"{field}" must be 1 to {limit} characters long.')
    return value


def cheep_message(cheep):
    return {"type": "cheep", **cheep}


def error_message(reason):
    return {"type": "error", "message": reason}


class RateLimit:
    """A token bucket: BURST cheeps at once, then PER_SECOND more each second."""

    def __init__(self):
        self.tokens = BURST
        self.last = time.monotonic()

    def allow(self):
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.last) * PER_SECOND)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


TOO_FAST = f"Too fast: at most {BURST} cheeps at once, then {PER_SECOND} a second. This one was not sent."
STORAGE_AWAY = "Cheeper cannot reach its storage just now: try again in a moment. Nothing was stored."
