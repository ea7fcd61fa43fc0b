"""The solution's promises: every cheep checked, errors explained, nothing lost."""

import json

import pytest
import requests

from app_client import CHEEP_FIELDS, cheeps_since, newest_id, post_cheep, post_json, receive_json, send_cheep, unique

pytestmark = pytest.mark.stage("solution")


def cheep(**fields):
    return json.dumps({"type": "cheep", "name": "Ada", "cheep": "hello", **fields})


INVALID_MESSAGES = {
    "not JSON": "hello",
    "cut-off JSON": '{"type": "cheep", "name": "Ada"',
    "a JSON list": '["cheep", "Ada", "hello"]',
    "a JSON string": '"hello"',
    "a JSON number": "76",
    "JSON null": "null",
    "an empty object": "{}",
    "no type": json.dumps({"name": "Ada", "cheep": "hello"}),
    "another type": cheep(type="chirp"),
    "no name": json.dumps({"type": "cheep", "cheep": "hello"}),
    "no cheep": json.dumps({"type": "cheep", "name": "Ada"}),
    "a number for a name": cheep(name=7),
    "null for a cheep": cheep(cheep=None),
    "a list for a cheep": cheep(cheep=["hello"]),
    "an object for a cheep": cheep(cheep={"text": "hello"}),
    "an empty name": cheep(name=""),
    "a name of spaces": cheep(name="   "),
    "an empty cheep": cheep(cheep=""),
    "a cheep of spaces and a newline": cheep(cheep=" \n "),
    "a 33-character name": cheep(name="n" * 33),
    "a 77-character cheep": cheep(cheep="c" * 77),
    "a huge cheep": cheep(cheep="c" * 2000),
    "an unknown field": cheep(colour="red"),
    "deep nesting": "[" * 2000 + "]" * 2000,
    "half a character": cheep(cheep="\ud83d"),
    "a binary frame": cheep().encode(),
}


@pytest.mark.parametrize("message", INVALID_MESSAGES.values(), ids=INVALID_MESSAGES.keys())
def test_an_invalid_message_gets_an_error_on_its_socket_only_and_nothing_is_stored(server, connect, message):
    """An invalid message gets an error on its own socket only, and nothing is stored."""
    sender, bystander = connect(), connect()
    before = newest_id(server)
    sender.send_binary(message) if isinstance(message, bytes) else sender.send(message)
    error = receive_json(sender)
    assert error["type"] == "error"
    assert isinstance(error["message"], str) and error["message"]
    assert cheeps_since(server, before) == [], "An invalid message was stored."

    # The connection stays open, and the bystander heard nothing of the error.
    text = unique()
    send_cheep(sender, "Ada", text)
    assert receive_json(sender)["cheep"] == text
    assert receive_json(bystander)["cheep"] == text


def test_names_and_cheeps_are_trimmed_and_the_limits_are_inclusive(connect):
    """Names and cheeps are trimmed, and the limits are inclusive."""
    client = connect()
    name, text = "n" * 32, "c" * 76
    send_cheep(client, f"  {name}\n", f" {text}  ")
    message = receive_json(client)
    assert (message["name"], message["cheep"]) == (name, text)


def test_an_unchecked_post_is_refused_with_400_and_the_reason(server):
    """A POST that is not a proper cheep is refused with 400 and the reason."""
    before = newest_id(server)
    for form in ({"name": "Ada"}, {"cheep": "hi"}, {"name": "Ada", "cheep": "c" * 77}, {"name": " ", "cheep": "hi"}):
        response = requests.post(server.url + "/api/cheep", data=form)
        assert response.status_code == 400, form
        assert response.json()["type"] == "error" and response.json()["message"]
    for body in ("not json", "[1, 2]", json.dumps({"name": 7, "cheep": "hi"})):
        response = requests.post(server.url + "/api/cheep", data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert response.json()["message"]
    assert cheeps_since(server, before) == []


def test_a_cheep_posted_as_json_is_stored_broadcast_and_returned(server, connect):
    """A cheep posted as JSON is stored, broadcast and returned."""
    client = connect()
    text = unique("json")
    response = post_json(server, "Ada", text)
    assert response.status_code == 201
    stored = response.json()
    assert (stored["type"], stored["cheep"]) == ("cheep", text)
    assert receive_json(client) == stored


def test_catch_up_returns_the_cheeps_after_an_id_oldest_first(server):
    """The catch-up returns the cheeps after an id, oldest first."""
    before = newest_id(server)
    texts = [unique(f"catch-up {n}") for n in range(3)]
    for text in texts:
        post_cheep(server, "Ada", text)
    missed = cheeps_since(server, before)
    assert [c["cheep"] for c in missed] == texts
    for c in missed:
        # The lesson's fields, at least: an app that goes further may add its own ("room", say),
        # but no key for a cheep sent without one, and never its sender's address.
        assert CHEEP_FIELDS <= set(c) and c["type"] == "cheep", c
        assert "key" not in c and "address" not in c, c
    for since, after in [(missed[0]["id"], missed[1:]), (missed[-1]["id"], [])]:
        answer = cheeps_since(server, since)
        assert answer == after, (
            f"GET /api/cheeps?since={since} answered the ids {[c['id'] for c in answer]}, "
            f"not {[c['id'] for c in after]}: the cheeps after {since}, oldest first."
        )


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "", str(2**63)])  # 2**63: past SQLite's integers
def test_catch_up_refuses_a_since_that_is_not_an_id(server, since):
    """The catch-up refuses a "since" that is not an id."""
    response = requests.get(server.url + "/api/cheeps", params={"since": since})
    assert response.status_code == 400
    assert "since" in response.json()["message"]


def test_the_ids_on_the_socket_are_the_ids_of_catch_up(server, connect):
    """The ids on the socket are the ids of the catch-up."""
    client = connect()
    before = newest_id(server)
    sent = []
    for _ in range(3):
        send_cheep(client, "Ada", unique())
        sent.append(receive_json(client))
    assert cheeps_since(server, before) == sent


def test_a_restarted_server_loses_no_cheep(start_server):
    """A restarted server loses no cheep."""
    server = start_server()
    ada, grace = server.connect(), server.connect()
    for n in range(10):
        send_cheep(ada, "Ada", f"from Ada {n}")
        send_cheep(grace, "Grace", f"from Grace {n}")
    received = [receive_json(ada) for _ in range(20)]
    server.restart()
    assert cheeps_since(server, 0) == sorted(received, key=lambda c: c["id"])
