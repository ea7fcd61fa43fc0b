"""The solution's promises about slow, vanished and stopped connections: nobody waits
for a page that stopped reading, a page that stopped answering is dropped, and
stopping the server says goodbye properly."""

import os
import signal
import socket
import time

import pytest
import requests

from app_client import (
    CLOSE,
    cheeps_since,
    frame,
    post_json,
    receive_close,
    receive_json,
    send_cheep,
    still_listening,
    unique,
)
from waits import WAIT

pytestmark = pytest.mark.stage("solution")

LONG_CHEEP = "🐦" * 76  # 76 characters that travel as 912 bytes of JSON (\ud83d\udc26 each)


def connection_ends(client, within=WAIT):
    """Whether the server ends this connection within `within` seconds; whatever it
    sent first (cheeps, pings) is read and thrown away, and nothing is answered."""
    client.sock.settimeout(within)
    try:
        while client.sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


def test_a_client_that_stops_reading_holds_up_no_one_and_is_dropped(server, connect):
    """A client that stops reading holds up no one, and is dropped."""
    # A small receive window, so that the stalled client's share of the network fills up soon.
    stalled = connect(sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    bystander = connect()
    with requests.Session() as session:
        for n in range(500):
            text = f"{n:04} {LONG_CHEEP}"[:76]
            response = post_json(server, "🐦" * 32, text, session=session)
            assert response.status_code == 201
            assert receive_json(bystander)["cheep"] == text, "The bystander missed a cheep."
    assert connection_ends(stalled), "A client that never read 500 cheeps is still connected."


@pytest.mark.parametrize("path", ["/ws", "/echo"])
def test_a_client_that_stops_answering_pings_is_dropped_and_one_that_answers_stays(start_server, path):
    """A client that stops answering pings is dropped, and one that answers stays."""
    # Pings every 1.5 s: a client silent for 3 s is dropped, within 4.5 s. (Shorter, and
    # a busy machine that leaves the answering client unscheduled that long drops it too.)
    server = start_server(env={"CHEEPER_PING_SECONDS": "1.5"})
    silent, answering = server.connect(path), server.connect(path)
    until = time.monotonic() + 7
    while time.monotonic() < until:
        answering.recv_data(control_frame=True)  # each ping gets its pong, as from a browser
    assert still_listening(answering), "A client that answered every ping was dropped."
    assert connection_ends(silent), "A client that answered no ping for 7 s is still connected."


@pytest.mark.skipif(os.name != "posix", reason="Only POSIX systems send SIGTERM and Ctrl+C signals.")
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl+C", "SIGTERM"])
def test_stopping_the_server_closes_every_socket_with_1001_and_no_traceback(start_server, how):
    """Stopping the server closes every socket with 1001, and no traceback."""
    server = start_server()
    clients = [server.connect() for _ in range(3)]
    output = server.stop(close_sockets=False, how=how)
    assert [receive_close(client)[0] for client in clients] == [1001] * 3
    assert server.process.returncode == 0
    assert "Traceback" not in output


def test_a_close_without_a_code_gets_a_normal_goodbye(connect):
    """A close without a code gets a normal goodbye."""
    client = connect()  # a browser's socket.close(), with no code, sends such a frame
    client.sock.sendall(frame(CLOSE))
    assert receive_close(client) == (1000, "")


def test_many_clients_cheeping_at_once_lose_nothing_and_all_see_one_order(start_server):
    """Many clients cheeping at once lose nothing, and all see one order."""
    server = start_server()
    clients = [server.connect() for _ in range(15)]
    texts = [unique(f"{n} from {i}") for n in range(8) for i in range(len(clients))]
    for i, text in enumerate(texts):
        send_cheep(clients[i % len(clients)], "Ada", text)
    feeds = [[receive_json(client) for _ in texts] for client in clients]

    stored = cheeps_since(server, 0)
    assert sorted(c["cheep"] for c in stored) == sorted(texts), "A cheep was lost or stored twice."
    assert [c["id"] for c in stored] == sorted({c["id"] for c in stored})
    assert all(feed == stored for feed in feeds), "Some clients saw other cheeps, or another order."
