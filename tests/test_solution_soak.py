"""The solution under a crowd: a few hundred clients that behave like the page (a key
with each cheep, kept until the server sends it back, sent again after every
reconnect; live cheeps, and a catch-up after every reconnect), a few thousand
cheeps, and two restarts in the middle while they send: a polite one (Ctrl+C) and
a crash (SIGKILL). Afterwards every cheep typed is stored exactly once, and every
client's feed is the database."""

import random
import threading
import time

import psutil
import pytest
import requests
import websocket

from app_client import cheeps_since, new_key, newest_id, receive_json, send_cheep, socket_address, wait_until
from waits import LONG_WAIT

pytestmark = pytest.mark.stage("solution")

CLIENTS = 200
CHEEPS_EACH = 8
SECONDS_BETWEEN_CHEEPS = 3  # 200 clients: about 70 cheeps a second in all
SETTLE = 120  # seconds for every cheep to be acknowledged, and every feed to match the database


class PageLikeClient(threading.Thread):
    """Types its cheeps one by one, whether connected or not, as a person at a page
    does; keeps each in `unsent` until it comes back with its key; keeps every
    cheep it hears of in `feed`; when the connection drops, reconnects, sends what
    is unsent again, and catches up, as cheeper.js does."""

    def __init__(self, server, index):
        super().__init__(daemon=True)
        self.server = server
        self.to_type = [f"soak {index}-{n}" for n in range(CHEEPS_EACH)]
        self.unsent = {}  # key -> cheep text, in the order typed
        self.feed = {}  # id -> cheep
        self.errors = []
        self.problems = []
        self.reconnects = 0
        self.leave = threading.Event()

    def run(self):
        socket = None
        next_typed = time.monotonic() + random.random() * SECONDS_BETWEEN_CHEEPS
        while not self.leave.is_set():
            try:
                if self.to_type and time.monotonic() >= next_typed:
                    next_typed += SECONDS_BETWEEN_CHEEPS
                    key = new_key()
                    self.unsent[key] = self.to_type.pop(0)
                    if socket:
                        send_cheep(socket, "Soak", self.unsent[key], key)
                if socket is None:
                    socket = self.reconnect()
                self.hear(receive_json(socket))
            except websocket.WebSocketTimeoutException:
                pass  # nothing arrived: time to type, perhaps
            except (websocket.WebSocketException, OSError, AssertionError, requests.RequestException) as error:
                self.problems.append(f"{time.monotonic():.1f} {type(error).__name__}")
                if socket:
                    socket.close()
                socket = None  # the server went away: try again in a moment
                time.sleep(0.1 + random.random() * 0.1)
        if socket:
            socket.close()

    def reconnect(self):
        try:
            # A crowd connecting at once can take a while.
            socket = websocket.create_connection(socket_address(self.server), timeout=LONG_WAIT)
        except websocket.WebSocketTimeoutException as error:
            raise OSError("The handshake took too long.") from error
        self.reconnects += 1
        self.problems.append(f"{time.monotonic():.1f} connected")
        for key, text in list(self.unsent.items()):  # the server stores a key once
            send_cheep(socket, "Soak", text, key)
        for cheep in cheeps_since(self.server, max(self.feed, default=0)):  # every page of them
            self.hear(cheep)
        socket.settimeout(0.5)  # then wake up twice a second, to type
        return socket

    def hear(self, message):
        if message["type"] == "cheep":
            self.feed[message["id"]] = message
            self.unsent.pop(message.get("key"), None)  # it came back: stored
        else:
            self.errors.append(message)

    def done(self):
        return not self.to_type and not self.unsent


def stored_so_far(server):
    """About how many cheeps the server has stored: the newest id (none is deleted here).
    0 while the server is too busy to answer: this says when to restart, it checks nothing."""
    try:
        return newest_id(server)
    except requests.RequestException:
        return 0


@pytest.mark.soak
@pytest.mark.timeout(480)  # a minute alone; several on a machine busy with other tests
def test_a_crowd_a_restart_and_a_crash_lose_no_cheep_store_none_twice_and_every_feed_is_the_database(
    start_server,
):
    """A crowd, a restart and a crash lose no cheep and store none twice, and every feed is the database."""
    server = start_server(env={"CHEEPER_SOCKETS_PER_ADDRESS": str(CLIENTS)})
    clients = [PageLikeClient(server, index) for index in range(CLIENTS)]
    for client in clients:
        client.start()
    everyone = CLIENTS * CHEEPS_EACH
    assert wait_until(lambda: stored_so_far(server) >= everyone // 3, 120)
    moments = [f"restart {time.monotonic():.1f}"]
    server.restart(close_sockets=False)  # Ctrl+C, while the crowd is sending
    assert wait_until(lambda: stored_so_far(server) >= 2 * everyone // 3, 120)
    moments.append(f"crash {time.monotonic():.1f}")
    server.crash()  # SIGKILL, while the crowd is sending: no goodbye at all
    server.start()
    memory_at_start = psutil.Process(server.process.pid).memory_info().rss
    assert wait_until(lambda: all(client.done() for client in clients), SETTLE), (
        f"{sum(len(c.unsent) + len(c.to_type) for c in clients)} cheeps were never acknowledged: "
        f"{[(c.unsent, c.errors, c.problems) for c in clients if not c.done()][:3]}; {moments}"
    )

    stored = cheeps_since(server, 0)
    assert wait_until(lambda: all(len(c.feed) >= len(stored) for c in clients), SETTLE)
    stored = cheeps_since(server, 0)
    for client in clients:
        client.leave.set()
        client.join()
    texts = [cheep["cheep"] for cheep in stored]
    doubled = len(texts) - len(set(texts))
    lost = everyone - len(set(texts))
    print(f"{everyone} cheeps typed, {len(texts)} stored, {doubled} stored twice, {lost} lost")
    assert doubled == 0, f"{doubled} cheeps were stored twice."
    assert lost == 0, f"{lost} cheeps were lost."
    assert [c["id"] for c in stored] == sorted(c["id"] for c in stored)
    assert [error for client in clients for error in client.errors] == []
    for client in clients:
        assert sorted(client.feed.values(), key=lambda c: c["id"]) == stored
    # Each restart drops every connection. (On a busy machine one client may still
    # be reconnecting when the next restart comes, so the count is for the crowd.)
    assert sum(client.reconnects for client in clients) >= 2 * CLIENTS, "The restarts did not reach the crowd."
    memory_at_end = psutil.Process(server.process.pid).memory_info().rss
    print(f"server memory {memory_at_start >> 20} MiB after the crash, {memory_at_end >> 20} MiB at the end")
    assert memory_at_end < memory_at_start * 1.5, (memory_at_start, memory_at_end)
