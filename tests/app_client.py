"""How the tests talk to an app: over HTTP and WebSocket only, like a browser."""
import json
import uuid

import requests
from bs4 import BeautifulSoup


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
    return json.loads(message)
