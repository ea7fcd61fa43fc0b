"""Step 1's promises: the server half of realtime. Every later stage keeps them."""

import socket
import struct
from datetime import datetime, timedelta

import pytest
import requests
import websocket

from app_client import (
    CHEEP_FIELDS,
    get_page,
    post_cheep,
    receive_json,
    send_cheep,
    still_listening,
    unique,
    who_received,
)

pytestmark = pytest.mark.stage("step1_server")


def echo(client, text):
    """Send text to /echo; its reply, or "" when the connection has closed."""
    try:
        client.send(text)
        return client.recv()
    except (ConnectionError, websocket.WebSocketConnectionClosedException):
        return ""


def test_echo_answers_a_message(connect):
    """/echo answers a message."""
    reply = echo(connect("/echo"), "hello")
    assert reply != "", "/echo closed the connection as soon as it opened."
    assert reply == "hello"


def test_echo_keeps_answering(connect):
    """/echo keeps answering."""
    client = connect("/echo")
    assert echo(client, "hello") != "", "/echo closed the connection as soon as it opened."
    for text in ("and again", '{"json": true}'):
        reply = echo(client, text)
        assert reply != "", f"/echo closed the connection instead of answering {text!r}."
        assert reply == text


def test_ws_stays_open_after_the_handshake(server, connect):
    """/ws stays open after the handshake."""
    if not still_listening(connect()):
        # gevent-websocket opens any socket before Flask looks for its route: ask over HTTP.
        if requests.get(server.url + "/ws").status_code == 404:
            raise AssertionError(
                "/ws closed the connection as soon as it opened, and a plain GET of /ws "
                "answers 404: there is no /ws route."
            )
        raise AssertionError("/ws closed the connection as soon as it opened.")


def test_ws_keeps_listening_after_a_cheep(start_server):
    """/ws keeps listening after a cheep."""
    client = start_server().connect()  # alone on its server: nothing else can break it
    send_cheep(client, "Ada", unique())
    assert still_listening(client), "/ws closed the connection after the first message."


def test_a_cheep_reaches_every_connected_client_sender_included(connect):
    """A cheep reaches every connected client, the sender included."""
    clients = {"sender": connect(), "second client": connect(), "third client": connect()}
    text = unique()
    send_cheep(clients["sender"], "Ada", text)
    heard = []
    received = who_received(clients, text, heard)
    missed = [name for name in clients if name not in received]
    if missed == ["sender"]:
        raise AssertionError("The other clients received the cheep, but not the sender.")
    if not received and heard:
        raise AssertionError(
            f'No client got the cheep, but they got messages that did not hold it as their "cheep": {heard[0]!r}.'
        )
    if received == ["sender"]:
        raise AssertionError("The cheep reached only the socket that sent it: the other two never got it.")
    assert not missed, f"The cheep never reached: {', '.join(missed)}."


def test_a_broadcast_cheep_has_the_protocols_shape(connect):
    """A broadcast cheep has the protocol's shape."""
    client = connect()
    text = unique()
    send_cheep(client, "Ada", text)
    message = receive_json(client)
    assert isinstance(message, dict), f"The server sent {message!r}, not a JSON object."
    # The lesson's fields, at least: an app that goes further may add its own ("room", say).
    missing = CHEEP_FIELDS - set(message)
    assert not missing, f"The cheep has no {', '.join(sorted(missing))}: {message}"
    assert message["type"] == "cheep", message
    assert (message["name"], message["cheep"]) == ("Ada", text), message
    assert type(message["id"]) is int
    time = datetime.fromisoformat(message["time"].replace("Z", "+00:00"))
    assert time.utcoffset() == timedelta(0), "The time should be in UTC."
    assert abs(datetime.now(time.tzinfo) - time) < timedelta(minutes=5)


def test_every_stored_cheep_gets_a_larger_id(connect):
    """Every stored cheep gets a larger id."""
    client = connect()
    ids = []
    for _ in range(5):
        send_cheep(client, "Ada", unique())
        ids.append(receive_json(client)["id"])
    assert ids == sorted(set(ids))


def test_a_cheep_sent_over_the_socket_is_stored(server, connect):
    """A cheep sent over the socket is stored."""
    text = unique()
    client = connect()
    send_cheep(client, "Ada", text)
    receive_json(client)
    assert text in get_page(server).get_text()


def test_a_posted_cheep_is_sent_to_every_socket_too(server, connect):
    """A posted cheep is sent to every socket too."""
    clients = [connect(), connect()]
    text = unique("posted")
    post_cheep(server, "Grace", text)
    for client in clients:
        assert receive_json(client)["cheep"] == text


def close_politely(client):
    client.close()


def vanish(client):
    """Drop the connection with no WebSocket close frame, like a laptop lid shutting."""
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.sock.close()  # a TCP reset, and no goodbye


@pytest.mark.parametrize("leave", [close_politely, vanish])
def test_a_client_that_leaves_does_not_stop_later_broadcasts(connect, leave):
    """A client that leaves does not stop later broadcasts."""
    sender, leaving, other, leaving_too = connect(), connect(), connect(), connect()
    leave(leaving)
    leave(leaving_too)
    for _ in range(3):
        text = unique()
        send_cheep(sender, "Ada", text)
        assert receive_json(sender)["cheep"] == text
        assert receive_json(other)["cheep"] == text


def test_a_message_that_is_not_json_keeps_the_connection_and_the_server(server, connect):
    """A message that is not JSON keeps the connection and the server going."""
    sender, other = connect(), connect()
    sender.send("this is not JSON {")
    text = unique()
    try:
        send_cheep(sender, "Ada", text)
        reply = receive_json(sender)
    except (websocket.WebSocketException, OSError, AssertionError) as error:
        raise AssertionError(f"After a message that was not JSON, the next cheep got no answer: {error}") from None
    if reply["type"] == "error":  # the solution says what was wrong; step 1 stays silent
        reply = receive_json(sender)
    assert reply["cheep"] == text
    assert receive_json(other)["cheep"] == text


def test_a_plain_http_get_of_ws_is_a_400_with_a_sentence_not_a_traceback(server):
    """A plain HTTP GET of /ws is a 400 with a sentence, not a traceback."""
    response = requests.get(server.url + "/ws")
    assert response.status_code == 400
    assert "websocket" in response.text.lower(), response.text
    assert "Traceback" not in response.text
    assert len(response.text) < 300, "One sentence is enough."


def test_ctrl_c_stops_the_server_while_sockets_are_open(start_server):
    """Ctrl+C stops the server while sockets are open."""
    server = start_server()
    server.connect()
    server.connect("/echo")
    server.sockets.clear()  # leave them open while the server stops
    output = server.stop()
    assert "Traceback" not in output, f"Ctrl+C made the server print a traceback:\n{output}"


def test_a_port_in_use_says_how_to_pick_another(server_on_a_taken_port):
    """A port in use says how to pick another."""
    assert "PORT" in server_on_a_taken_port.output(), server_on_a_taken_port.output()
