"""How the tests talk to an app: over HTTP and WebSocket only, like a browser."""

import json
import os
import re
import struct
import threading
import time
import uuid
from urllib.parse import urljoin

import requests
import websocket
from bs4 import BeautifulSoup

from waits import LONG_WAIT, WAIT

# What a WebSocket frame carries: its opcode (RFC 6455, section 5.2).
CONTINUATION, TEXT, CLOSE, PING, PONG = 0x0, 0x1, 0x8, 0x9, 0xA
MESSAGE_LIMIT = 4096  # bytes in one WebSocket message: the solution's MESSAGE_LIMIT, in protocol.py


# The solution counts what each person does by the address of their computer, and
# every test client is on 127.0.0.1. A server started with these settings counts
# one person there; one that trusts 127.0.0.1 as its proxy, as it trusts nginx,
# tells people apart by the address the proxy names: see as_person().
ONE_PERSON_PER_ADDRESS = {"CHEEPER_PEOPLE_PER_ADDRESS": "1"}
PEOPLE_BEHIND_A_PROXY = {**ONE_PERSON_PER_ADDRESS, "CHEEPER_TRUSTED_PROXIES": "127.0.0.1"}


def as_person(number):
    """Headers that make a client person `number`, to a server started with PEOPLE_BEHIND_A_PROXY
    (pass them as header= to server.connect(), as headers= to requests)."""
    return {"X-Forwarded-For": f"10.0.0.{number}"}


def unique(text="cheep"):
    """A cheep text no other test uses (and short enough for 76 characters)."""
    return f"{text} {uuid.uuid4().hex[:12]}"


def socket_address(server, path="/ws"):
    """The address a page opens its socket at: ws://, where the app is at http://."""
    return server.url.replace("http", "ws", 1) + path


def post_cheep(server, name, cheep, **options):
    return requests.post(server.url + "/api/cheep", data={"name": name, "cheep": cheep}, **options)


def assert_each_key_stored_once_when_raced(servers, rounds=20):
    """Post each of `rounds` keys to every server at the same moment, as workers racing;
    each key must get one id, and be stored once."""
    for _ in range(rounds):
        key, text = new_key(), unique("raced")
        start = threading.Barrier(len(servers))
        answers = []

        def post(server):
            start.wait()
            answers.append(post_json(server, "Ada", text, key))

        threads = [threading.Thread(target=post, args=(server,)) for server in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [answer.status_code for answer in answers] == [201] * len(servers)
        assert len({answer.json()["id"] for answer in answers}) == 1, "Workers gave one key two ids."
        stored = stored_with(servers[0], text)
        assert len(stored) == 1, f"A key sent to {len(servers)} workers at once was stored {len(stored)} times."


def cheeps_since(server, since):
    """Every stored cheep after the id `since`, oldest first (the solution's catch-up)."""
    return [cheep for page in pages_of(server, f"/api/cheeps?since={since}&limit=200") for cheep in page]


def pages_of(server, address):
    """Every page of an answer of /api/cheeps, a list of cheeps each, following
    their Link headers: each names the address of the next page."""
    pages = []
    while address:
        response = requests.get(urljoin(server.url, address), timeout=LONG_WAIT)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        address = response.links.get("next", {}).get("url")
    return pages


def stored_with(server, text):
    """Every stored cheep whose text is `text`: one, for a cheep stored once."""
    return [cheep for cheep in cheeps_since(server, 0) if cheep["cheep"] == text]


def newest_id(server):
    newest = requests.get(server.url + "/api/cheeps", params={"limit": 1}, timeout=LONG_WAIT).json()
    return newest[0]["id"] if newest else 0


def get_page(server, address="/", **options):
    """The page at an address of the app, as its HTML reads without a script
    (options: requests', such as headers={"Cookie": ...})."""
    response = requests.get(urljoin(server.url, address), **options)
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def new_key():
    """A key for one cheep, as the solution's page makes them: 32 random hex digits."""
    return uuid.uuid4().hex


def send_cheep(client, name, cheep, key=None):
    """Send a cheep over a WebSocket; with a key, as the solution's page does."""
    message = {"type": "cheep", "name": name, "cheep": cheep}
    client.send(json.dumps(message if key is None else {**message, "key": key}))


def post_json(server, name, cheep, key=None, headers=None, address="/api/cheep", session=requests):
    """POST a cheep as JSON, as a script does; with a key, in the Idempotency-Key header.
    headers: more of them, such as as_person(2); address: another, such as a room's;
    session: a requests.Session, to send every POST on one connection."""
    headers = {**(headers or {}), **({} if key is None else {"Idempotency-Key": key})}
    return session.post(server.url + address, json={"name": name, "cheep": cheep}, headers=headers)


# Every type of message the lesson's servers send. An app that goes further
# (docs/going-further.md) may send more, such as {"type": "typing", "name": "Ada"}:
# the lesson's promises are not about those, so the tests skip them.
LESSON_TYPES = {"cheep", "error", "pong", "removed", "cleared", "muted", "unmuted", "progress"}
CHEEP_FIELDS = {"type", "id", "name", "cheep", "time"}  # in every cheep the server sends; "key" may come too


def from_an_extension(message):
    """Whether a message is of a type the lesson never sends. One that carries a
    cheep is not: that is a cheep with a wrong "type", which a promise should see."""
    return (
        isinstance(message, dict)
        and isinstance(message.get("type"), str)
        and message["type"] not in LESSON_TYPES
        and "cheep" not in message
    )


def receive_json(client):
    """The next message on a WebSocket client, decoded from JSON. Messages of a type the
    lesson never sends are skipped: an extension's new messages keep every promise."""
    skipped = []
    while True:
        try:
            message = client.recv()
        except websocket.WebSocketTimeoutException:
            if skipped:  # say what did come, rather than that nothing did
                raise websocket.WebSocketTimeoutException(
                    f"Only messages of types the lesson does not know arrived: {skipped[:3]}"
                ) from None
            raise
        assert message != "", "The server closed the WebSocket instead of sending a message."
        assert isinstance(message, str), (
            f"The server sent a binary frame ({message[:60]!r}), not text: send a str, made by json.dumps()."
        )
        try:
            decoded = json.loads(message)
        except ValueError:
            raise AssertionError(f"The server sent {message[:80]!r}, which is not JSON.") from None
        if not from_an_extension(decoded):
            return decoded
        skipped.append(decoded)


def who_received(clients, text, heard=None):
    """The names of the clients (a dict: name -> client) that received the cheep `text`,
    waiting up to WAIT seconds for all of them together. Each message they got instead
    is added to the list `heard`, when given."""
    deadline = time.monotonic() + WAIT
    received = []
    for name, client in clients.items():
        client.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if (message := receive_json(client)).get("cheep") == text:
                received.append(name)
            elif heard is not None:
                heard.append(message)
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            client.settimeout(WAIT)
    return received


def wait_until(condition, seconds=WAIT):
    """Call condition() until it returns something true, for `seconds` at most; its last result."""
    deadline = time.monotonic() + seconds
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def still_listening(client):
    """Whether the server still reads this WebSocket: a ping gets its pong.
    Messages that arrive first are skipped."""
    try:
        client.ping("still there?")
        while True:
            opcode, _ = client.recv_data(control_frame=True)
            if opcode in (PONG, CLOSE):
                return opcode == PONG
    except (websocket.WebSocketException, OSError):
        return False


def receive_close(client):
    """Read until the server ends the connection: (close code, reason) from its close
    frame, or (None, "") when it hung up without one."""
    try:
        while True:
            opcode, data = client.recv_data(control_frame=True)
            if opcode == CLOSE:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                return code, data[2:].decode()
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        return None, ""


def frame(opcode, payload=b"", fin=True, masked=True, reserved_bits=0, length=None):
    """One WebSocket frame from a client, built byte by byte so that it can break the
    rules: send it with client.sock.sendall(frame(...))."""
    length = len(payload) if length is None else length
    header = bytes([(0x80 if fin else 0) | reserved_bits << 4 | opcode])
    mask_bit = 0x80 if masked else 0
    if length < 126:
        header += bytes([mask_bit | length])
    elif length < 2**16:
        header += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        header += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))


# A learner's progress, as make check SHARE=... sends it.
REPORT = {"name": "Ada", "step": 1, "kept": 12, "promises": 15, "failing": "The server sends each cheep to every page"}
INSTRUCTOR_LINK = re.compile(r"http://\S+/instructor\?key=\S+")


def post_progress(server, report=REPORT):
    """Send a learner's progress, as make check SHARE=... does; the answer."""
    return requests.post(server.url + "/api/progress", json=report)


def instructor_link(server):
    """The instructor's link, as the server printed it when it started."""
    found = INSTRUCTOR_LINK.search(server.output())
    assert found, f"The server printed no instructor's link. It printed:\n{server.output()}"
    return found[0]


class Instructor:
    """The instructor, as their browser is once it opened the instructor's link (the
    one `server` printed, or `link`: through nginx, say). Its requests carry the
    cookie, and the Origin of the app's own pages."""

    def __init__(self, server, link=None):
        self.server = server
        self.http = requests.Session()
        response = self.http.get(link or instructor_link(server), allow_redirects=False)
        assert response.status_code == 303, response.text
        self.http.headers["Origin"] = server.url
        self.sockets = []

    def act(self, message):
        """Send an instructor's message over HTTP, as a script does; the answer."""
        return self.http.post(self.server.url + "/api/instructor", json=message)

    def get(self, path):
        return self.http.get(self.server.url + path)

    def connect(self):
        """The socket of the instructor's page."""
        cookie = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        client = websocket.create_connection(
            socket_address(self.server), timeout=WAIT, origin=self.server.url, cookie=cookie
        )
        self.sockets.append(client)
        return client

    def close(self):
        for client in self.sockets:
            client.close()


def receive_type(client, kind):
    """The next message of this type on a WebSocket client; others are skipped."""
    while (message := receive_json(client))["type"] != kind:
        pass
    return message
