"""Going further, a typing indicator: the server's promises. A typing message,
{"type": "typing", "name": "Grace"}, reaches every other socket and is never stored.

What the page does with it is proven by test_browser_typing.py.
"""

import json

import pytest
import websocket

from app_client import get_page, send_cheep, unique

pytestmark = pytest.mark.stage("typing")


def send_typing(client, name):
    client.send(json.dumps({"type": "typing", "name": name}))


def next_message(client):
    """The next message on a WebSocket client, of any type (receive_json() skips the typing ones),
    decoded when it is JSON; None when none came in time, or the server closed the connection."""
    try:
        message = client.recv()
    except (websocket.WebSocketException, OSError):
        return None
    try:
        return json.loads(message) if message else None
    except ValueError:
        return message


def messages_until_cheep(client, text):
    """Every message a client gets, up to the cheep `text`; None at the end if that cheep never came."""
    messages = []
    while (message := next_message(client)) is not None:
        messages.append(message)
        if isinstance(message, dict) and message.get("cheep") == text:
            return messages
    return messages + [None]


def is_typing(message, name):
    """Whether a message says that `name` is typing (it may carry fields of its own, too)."""
    return isinstance(message, dict) and message.get("type") == "typing" and message.get("name") == name


def typing_in(messages):
    return [message for message in messages if isinstance(message, dict) and message.get("type") == "typing"]


def test_typing_reaches_every_other_socket_and_never_comes_back_to_the_typist(connect):
    """Typing reaches every other socket, and never comes back to the typist."""
    typist, others = connect(), {"second client": connect(), "third client": connect()}
    name = unique("Grace")
    send_typing(typist, name)
    for who, client in others.items():
        message = next_message(client)
        assert message is not None, f"The typist's typing message never reached the {who}."
        assert is_typing(message, name), (
            f"The {who} got {message!r}, not the typing message {{'type': 'typing', 'name': {name!r}}}."
        )

    # The server reads one socket's messages in order: if the typing message went back to
    # the typist, it came before the typist's next cheep.
    text = unique()
    send_cheep(typist, name, text)
    seen = messages_until_cheep(typist, text)
    assert not typing_in(seen), f"The typist's page got its own typing message back: {json.dumps(typing_in(seen)[0])}."
    assert seen[-1] is not None, f"After a typing message, the typist's cheep never came back to it. It got: {seen}"
    for who, client in others.items():
        assert messages_until_cheep(client, text)[-1] is not None, (
            f"After a typing message, the typist's cheep never reached the {who}."
        )


def test_a_typing_message_is_never_stored(server, connect):
    """A typing message is never stored."""
    typist, other = connect(), connect()
    shown_before = len(get_page(server).select("#feed > li"))
    name = unique("Grace")
    send_typing(typist, name)
    assert next_message(other) is not None, "The typing message never reached the other socket."
    page = get_page(server)
    assert name not in page.get_text(), (
        f"After a typing message from {name!r}, the page shows that name: it was stored."
    )
    shown = len(page.select("#feed > li"))
    assert shown == shown_before, f"After a typing message, the feed shows {shown} cheeps, not {shown_before}."


BAD_TYPING = [
    {"type": "typing"},
    {"type": "typing", "name": None},
    {"type": "typing", "name": ""},
    {"type": "typing", "name": 42},
    {"type": "typing", "name": ["Ada"]},
    {"type": "typing", "name": {"first": "Ada"}},
    {"type": "typing", "name": "A" * 1000},
]


def test_a_typing_message_without_a_proper_name_reaches_nobody_and_breaks_nothing(connect):
    """A typing message without a proper name reaches nobody and breaks nothing."""
    typist, other = connect(), connect()
    name = unique("Grace")
    try:
        for bad in BAD_TYPING:
            typist.send(json.dumps(bad))
        send_typing(typist, name)  # a good one, to see what arrived before it
    except (websocket.WebSocketException, OSError):
        raise AssertionError(
            "The server closed the typist's connection after typing messages with no proper "
            f"name, such as {BAD_TYPING[0]!r}."
        ) from None
    arrived = []
    while (message := next_message(other)) is not None:
        arrived.append(message)
        if is_typing(message, name):
            break
    shown = [json.dumps(message)[:80] for message in arrived[:-1]]
    assert not shown, f"A typing message with no proper name reached the other socket: {shown[0]}."
    assert arrived, (
        "After typing messages with no proper name, a good one never reached the other socket: "
        "the typist's connection or the server broke."
    )
    text = unique()
    send_cheep(typist, name, text)
    assert messages_until_cheep(other, text)[-1] is not None, (
        "After typing messages with no proper name, the typist's next cheep never reached the other socket."
    )
