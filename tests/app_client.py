"""How the tests talk to an app: over HTTP and WebSocket only, like a browser."""
import json
import time
import uuid

import requests
import websocket
from bs4 import BeautifulSoup

WAIT = 3  # seconds a client waits for a message that should come (loopback takes ms)


def unique(text="cheep"):
    """A cheep text no other test uses (and short enough for 76 characters)."""
    return f"{text} {uuid.uuid4().hex[:12]}"


def post_cheep(server, name, cheep, **options):
    return requests.post(
        server.url + "/api/cheep", data={"name": name, "cheep": cheep}, **options
    )


def get_page(server):
    response = requests.get(server.url + "/")
    assert response.status_code == 200
    return BeautifulSoup(response.text, "html.parser")


def send_cheep(client, name, cheep):
    client.send(json.dumps({"type": "cheep", "name": name, "cheep": cheep}))


def receive_json(client):
    """The next message on a WebSocket client, decoded from JSON."""
    message = client.recv()
    assert message != "", "The server closed the WebSocket instead of sending a message."
    assert isinstance(message, str), (
        f"The server sent a binary frame ({message[:60]!r}), not text: send a str, made by json.dumps()."
    )
    try:
        return json.loads(message)
    except ValueError:
        raise AssertionError(f"The server sent {message[:80]!r}, which is not JSON.") from None


def who_received(clients, text):
    """The names of the clients (a dict: name -> client) that received the cheep `text`,
    waiting up to WAIT seconds for all of them together."""
    deadline = time.monotonic() + WAIT
    received = []
    for name, client in clients.items():
        client.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if receive_json(client).get("cheep") == text:
                received.append(name)
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            client.settimeout(WAIT)
    return received


def still_listening(client):
    """Whether the server still reads this WebSocket: a ping gets its pong.
    Messages that arrive first are skipped."""
    try:
        client.ping("still there?")
        while True:
            opcode, _ = client.recv_data(control_frame=True)
            if opcode in (websocket.ABNF.OPCODE_PONG, websocket.ABNF.OPCODE_CLOSE):
                return opcode == websocket.ABNF.OPCODE_PONG
    except (websocket.WebSocketException, OSError):
        return False
