"""The solution under a crowd: a few hundred clients that behave like the page (live
cheeps, and a catch-up after every reconnect), a few thousand cheeps, and a
restart in the middle. Afterwards every client's feed is the database."""
import random
import threading
import time

import psutil
import pytest
import requests
import websocket

from app_client import cheeps_since, receive_json, send_cheep, wait_until

CLIENTS = 200
CHEEPS_EACH = 8
SECONDS_BETWEEN_CHEEPS = 3  # 200 clients: about 70 cheeps a second in all
SETTLE = 30  # seconds for every feed to match the database at the end


class PageLikeClient(threading.Thread):
    """Sends its cheeps one by one; keeps every cheep it hears of in `feed`; when the
    connection drops, reconnects and catches up, as cheeper.js does."""

    def __init__(self, server, index):
        super().__init__(daemon=True)
        self.server = server
        self.to_send = [f"soak {index}-{n}" for n in range(CHEEPS_EACH)]
        self.feed = {}  # id -> cheep
        self.reconnects = 0
        self.leave = threading.Event()

    def run(self):
        client = None
        next_send = time.monotonic() + random.random()
        while not self.leave.is_set():
            try:
                if client is None:
                    client = websocket.create_connection(self.server.url.replace("http", "ws") + "/ws", timeout=0.1)
                    self.reconnects += 1
                    for cheep in cheeps_since(self.server, max(self.feed, default=0)):
                        self.feed[cheep["id"]] = cheep
                if self.to_send and time.monotonic() >= next_send:
                    send_cheep(client, "Soak", self.to_send.pop(0))
                    next_send = time.monotonic() + SECONDS_BETWEEN_CHEEPS
                message = receive_json(client)
                if message["type"] == "cheep":
                    self.feed[message["id"]] = message
            except websocket.WebSocketTimeoutException:
                pass
            except (websocket.WebSocketException, OSError, AssertionError, requests.ConnectionError):
                client = None  # the server went away: try again in a moment
                time.sleep(0.1 + random.random() * 0.1)
        if client:
            client.close()


@pytest.mark.soak
def test_a_crowd_and_a_restart_lose_nothing_and_every_feed_is_the_database(start_server):
    server = start_server(env={"CHEEPER_SOCKETS_PER_ADDRESS": str(CLIENTS)})
    clients = [PageLikeClient(server, index) for index in range(CLIENTS)]
    for client in clients:
        client.start()
    everyone = CLIENTS * CHEEPS_EACH
    assert wait_until(lambda: len(cheeps_since(server, 0)) >= everyone // 2, 120)
    server.restart(close_sockets=False)
    memory_at_start = psutil.Process(server.process.pid).memory_info().rss
    assert wait_until(lambda: all(not c.to_send for c in clients), 60), "Some clients could not send."

    stored = cheeps_since(server, 0)
    assert wait_until(lambda: all(len(c.feed) >= len(stored) for c in clients), SETTLE)
    stored = cheeps_since(server, 0)
    for client in clients:
        client.leave.set()
        client.join()
    texts = [cheep["cheep"] for cheep in stored]
    assert len(texts) == len(set(texts)), "A cheep was stored twice."
    # A cheep sent in the very instant the server said goodbye is lost; only those.
    assert len(texts) >= everyone - CLIENTS // 20, f"{everyone - len(texts)} cheeps were lost."
    assert [c["id"] for c in stored] == sorted(c["id"] for c in stored)
    for client in clients:
        assert sorted(client.feed.values(), key=lambda c: c["id"]) == stored
        assert client.reconnects >= 2, "A client did not notice the restart."
    memory_at_end = psutil.Process(server.process.pid).memory_info().rss
    print(f"{len(texts)} cheeps stored; server memory {memory_at_start >> 20} MiB after the restart, {memory_at_end >> 20} MiB at the end")
    assert memory_at_end < memory_at_start * 1.5, (memory_at_start, memory_at_end)
