"""The solution's promises about bad input: whatever one connection sends, it gets a
clear answer on its own socket, nothing invalid is stored, and everyone else's
cheeps keep flowing."""

import json
import socket
import time

import pytest
import requests
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_client import (
    CONTINUATION,
    MESSAGE_LIMIT,
    ONE_PERSON_PER_ADDRESS,
    PEOPLE_BEHIND_A_PROXY,
    PING,
    TEXT,
    as_person,
    cheeps_since,
    frame,
    newest_id,
    receive_close,
    receive_json,
    send_cheep,
    still_listening,
    unique,
    wait_until,
)
from text_rules import CHEEP_LIMIT, NAME_LIMIT, as_stored
from waits import WAIT

pytestmark = pytest.mark.stage("solution")

CHEEP = json.dumps({"type": "cheep", "name": "Ada", "cheep": "whole"}).encode()


def assert_others_unharmed(server, connect, before):
    """Nothing was stored, and a new client's cheep still reaches a bystander."""
    assert cheeps_since(server, before) == [], "Something was stored."
    sender, bystander = connect(), connect()
    text = unique()
    send_cheep(sender, "Grace", text)
    assert receive_json(bystander)["cheep"] == text


# Frames that break the WebSocket protocol itself, and the close code each deserves.
BROKEN_FRAMES = {
    "a message over the size limit": (1009, [frame(TEXT, b"x" * (MESSAGE_LIMIT + 1))]),
    "fragments adding up to over the limit": (
        1009,
        [frame(TEXT, b"x" * 3000, fin=False), frame(CONTINUATION, b"x" * 3000)],
    ),
    "a frame announcing a terabyte": (1009, [frame(TEXT, length=2**40)]),
    "invalid UTF-8 in a text frame": (1007, [frame(TEXT, b'{"cheep": "\xff\xfe"}')]),
    "a frame the client did not mask": (1002, [frame(TEXT, CHEEP, masked=False)]),
    "reserved bits set": (1002, [frame(TEXT, CHEEP, reserved_bits=0b100)]),
    "an opcode that does not exist": (1002, [frame(0x3, CHEEP)]),
    "a continuation with nothing to continue": (1002, [frame(CONTINUATION, CHEEP)]),
    "a fragmented ping": (1002, [frame(PING, b"hi", fin=False)]),
    "a new message inside a fragmented one": (1002, [frame(TEXT, CHEEP[:10], fin=False), frame(TEXT, CHEEP)]),
}


@pytest.mark.parametrize("code, frames", BROKEN_FRAMES.values(), ids=BROKEN_FRAMES.keys())
def test_a_broken_frame_closes_its_own_socket_with_the_right_code(server, connect, code, frames):
    """A broken frame closes its own socket, with the right code."""
    before = newest_id(server)
    bystander, breaker = connect(), connect()
    for data in frames:
        breaker.sock.sendall(data)
    assert receive_close(breaker)[0] == code

    assert_others_unharmed(server, connect, before)
    assert still_listening(bystander)


def test_the_close_frame_for_a_message_too_big_says_the_limit(connect):
    """The close frame for a message too big says the limit."""
    client = connect()
    client.sock.sendall(frame(TEXT, b"x" * (MESSAGE_LIMIT + 1)))
    code, reason = receive_close(client)
    assert code == 1009 and str(MESSAGE_LIMIT) in reason


def test_a_cheep_in_fragments_is_one_cheep(server, connect):
    """A cheep sent in fragments is one cheep."""
    client = connect()
    text = unique("fragments")
    message = json.dumps({"type": "cheep", "name": "Ada", "cheep": text}).encode()
    client.sock.sendall(
        frame(TEXT, message[:5], fin=False)
        + frame(CONTINUATION, message[5:20], fin=False)
        + frame(PING, b"in between")
        + frame(CONTINUATION, message[20:])
    )
    while (received := receive_json(client))["type"] != "cheep":
        pass
    assert received["cheep"] == text
    assert [c["cheep"] for c in cheeps_since(server, received["id"] - 1)] == [text]


def test_a_message_of_exactly_the_limit_is_read_not_closed(connect):
    """A message of exactly the limit is read, not closed."""
    client = connect()
    message = json.dumps({"type": "cheep", "name": "Ada", "cheep": "x" * 4000}).ljust(MESSAGE_LIMIT)
    assert len(message) == MESSAGE_LIMIT
    client.send(message)
    assert receive_json(client)["type"] == "error"  # read, and refused for its long cheep


def test_a_flood_from_one_person_gets_errors_past_the_burst_and_others_still_get_through(start_server):
    """A flood from one person gets errors past the burst, and others still get through."""
    server = start_server(env=PEOPLE_BEHIND_A_PROXY)
    flooder, bystander = server.connect(header=as_person(1)), server.connect(header=as_person(2))
    before = newest_id(server)
    texts = [unique(f"flood {n}") for n in range(15)]
    started = time.monotonic()
    for text in texts:
        send_cheep(flooder, "Flood", text)
    replies = [receive_json(flooder) for _ in texts]
    refilled = int((time.monotonic() - started) * 5)  # 5 a second after the first 10
    sent = [r["cheep"] for r in replies if r["type"] == "cheep"]
    assert 10 <= len(sent) <= 10 + refilled and sent[:10] == texts[:10]
    assert all("Too fast" in r["message"] for r in replies if r["type"] == "error")
    assert [c["cheep"] for c in cheeps_since(server, before)] == sent

    text = unique("bystander")
    send_cheep(bystander, "Grace", text)
    while receive_json(bystander)["cheep"] != text:
        pass

    time.sleep(0.5)  # 5 a second: two or three more may go now
    send_cheep(flooder, "Flood", unique())
    assert receive_json(flooder)["type"] == "cheep"


def test_more_sockets_from_one_address_than_allowed_are_refused_with_429(start_server):
    """More sockets from one address than allowed are refused with 429."""
    server = start_server(env={**ONE_PERSON_PER_ADDRESS, "CHEEPER_SOCKETS_PER_ADDRESS": "3"})
    first, *others = [server.connect() for _ in range(3)]
    for path in ["/ws", "/echo"]:  # every socket counts, on either address
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            server.connect(path)
        assert refused.value.status_code == 429
        assert b"3" in refused.value.resp_body

    text = unique()
    send_cheep(first, "Ada", text)
    assert all(receive_json(client)["cheep"] == text for client in others)
    first.close()

    def another_opens():
        try:
            return server.connect()
        except websocket.WebSocketBadStatusException:
            return None

    assert wait_until(another_opens), "A socket that closed still counts against its address."


def test_behind_a_trusted_proxy_the_limit_counts_each_person_and_not_the_proxy(start_server):
    """Behind a trusted proxy, the limit counts each person, and not the proxy."""
    server = start_server(env={**PEOPLE_BEHIND_A_PROXY, "CHEEPER_SOCKETS_PER_ADDRESS": "2"})
    for _ in range(2):
        server.connect(header=["X-Forwarded-For: 198.51.100.7"])
    server.connect(header=["X-Forwarded-For: 203.0.113.9"])
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        server.connect(header=["X-Forwarded-For: 198.51.100.7"])
    assert refused.value.status_code == 429


def test_a_forwarded_address_from_anyone_else_is_ignored(start_server):
    """A forwarded address from anyone else is ignored."""
    server = start_server(env={**ONE_PERSON_PER_ADDRESS, "CHEEPER_SOCKETS_PER_ADDRESS": "2"})
    for n in range(2):
        server.connect(header=[f"X-Forwarded-For: 198.51.100.{n}"])
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        server.connect(header=["X-Forwarded-For: 198.51.100.99"])
    assert refused.value.status_code == 429


MALFORMED_POSTS = {
    "no body": {},
    "JSON that is cut off": {"data": b'{"name": "Ada"', "headers": {"Content-Type": "application/json"}},
    "JSON in invalid UTF-8": {
        "data": b'{"name": "\xff", "cheep": "hi"}',
        "headers": {"Content-Type": "application/json"},
    },
    "JSON with half a character": {
        "data": b'{"name": "Ada", "cheep": "\\ud800"}',
        "headers": {"Content-Type": "application/json"},
    },
    "a JSON list": {"json": ["Ada", "hi"]},
    "a number for a name": {"json": {"name": 1, "cheep": "hi"}},
    "text/plain": {"data": b"Ada: hi", "headers": {"Content-Type": "text/plain"}},
    "JSON nested 5,000 deep": {"data": b"[" * 5000, "headers": {"Content-Type": "application/json"}},
}


@pytest.mark.parametrize("request_options", MALFORMED_POSTS.values(), ids=MALFORMED_POSTS.keys())
def test_a_malformed_post_gets_a_400_with_a_reason_never_a_500(server, request_options):
    """A malformed POST gets a 400 with a reason, never a 500."""
    before = newest_id(server)
    response = requests.post(server.url + "/api/cheep", **request_options)
    assert response.status_code == 400, response.text[:200]
    assert response.json()["message"]
    assert cheeps_since(server, before) == []


HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
BROKEN_REQUESTS = {  # what a client sends, as bytes, and the status it deserves
    "a request line that is not HTTP": (b"HELLO\r\n\r\n", 400),
    "a Content-Length that is not a number": (
        b"POST /api/cheep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: many\r\n\r\n",
        400,
    ),
    "chunks that are not hexadecimal": (
        b"POST /api/cheep HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        400,
    ),
    "a body shorter than it said": (
        b"POST /api/cheep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{}",
        400,
    ),
    "a WebSocket key that is not base64": (
        (HANDSHAKE + "Sec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n\r\n").encode(),
        400,
    ),
    "a WebSocket key of the wrong length": (
        (HANDSHAKE + "Sec-WebSocket-Key: a2V5\r\nSec-WebSocket-Version: 13\r\n\r\n").encode(),
        400,
    ),
    "a WebSocket version that does not exist": (
        (HANDSHAKE + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n\r\n").encode(),
        426,
    ),
    "a WebSocket handshake without a version": (
        (HANDSHAKE + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode(),
        426,
    ),
    "a WebSocket handshake over HTTP/1.0": (HANDSHAKE.replace("1.1", "1.0", 1).encode() + b"\r\n", 400),
}


@pytest.mark.parametrize("request_bytes, status", BROKEN_REQUESTS.values(), ids=BROKEN_REQUESTS.keys())
def test_a_broken_request_gets_its_4xx_with_a_reason_and_no_traceback(server, request_bytes, status):
    """A broken request gets its 4xx with a reason, and no traceback."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as connection:
        connection.sendall(request_bytes)
        connection.shutdown(socket.SHUT_WR)  # all of it, even a body shorter than it said
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, reason = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert reason.strip(), "The answer gave no reason."
    assert "Traceback" not in server.output(), server.output()


def test_a_post_of_a_megabyte_is_refused_unread_with_413(server):
    """A POST of a megabyte is refused unread, with 413."""
    response = requests.post(server.url + "/api/cheep", data={"name": "Ada", "cheep": "x" * 2**20})
    assert response.status_code == 413
    assert "bytes" in response.json()["message"]


# Any JSON value, and any text at all; with a good share of cheep-shaped objects.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=100),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
cheep_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["cheep", "chirp"]),
        "name": st.text(max_size=40) | json_values,
        "cheep": st.text(max_size=90) | json_values,
    },
    optional={"extra": json_values},
)
messages = st.one_of(
    cheep_like.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=300),
    st.binary(max_size=300),
)


def is_valid(message):
    """What the protocol reference says a valid cheep is, written out once more."""
    try:
        data = json.loads(message)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and set(data) == {"type", "name", "cheep"}
        and data["type"] == "cheep"
        and as_stored(data["name"], NAME_LIMIT) is not None
        and as_stored(data["cheep"], CHEEP_LIMIT) is not None
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(messages, min_size=1, max_size=5))
def test_any_messages_get_an_answer_each_and_only_valid_cheeps_are_stored(server, batch):
    """Any messages get an answer each, and only valid cheeps are stored."""
    sender = server.connect()  # a fresh one each time (the server counts many people at 127.0.0.1)
    try:
        before = newest_id(server)
        for message in batch:
            sender.send_binary(message) if isinstance(message, bytes) else sender.send(message)
        replies = [receive_json(sender) for _ in batch]
        expected = [isinstance(m, str) and is_valid(m) for m in batch]
        assert [r["type"] == "cheep" for r in replies] == expected
        assert all(r["message"] for r in replies if r["type"] == "error")
        assert [c["id"] for c in cheeps_since(server, before)] == [r["id"] for r in replies if r["type"] == "cheep"]
    finally:
        sender.close()
    bystander = server.connect()
    try:
        text = unique()
        send_cheep(bystander, "Grace", text)
        assert receive_json(bystander)["cheep"] == text
    finally:
        bystander.close()
