"""Every cheep to every connected page, without waiting for the slow ones.

A broadcast builds the cheep's frame once, and writes it to every page's
socket. The network takes it at once from any page that reads; for a page that
stopped reading, it waits in that page's outbox (see CheckedWebSocket.write in
sockets.py), so the page holds up nobody else. When its outbox is full, it is
dropped; it reconnects and catches up when it can.
"""
import json
import os
import time
from contextlib import contextmanager

import gevent
from geventwebsocket.exceptions import WebSocketError
from geventwebsocket.websocket import WebSocket

import protocol
from sockets import frame

PING_SECONDS = float(os.environ.get("CHEEPER_PING_SECONDS", "20"))

listeners = set()  # the WebSocket of every page connected now


@contextmanager
def listening(websocket):
    """Broadcast to this page for as long as the with-block runs."""
    listeners.add(websocket)
    try:
        yield
    finally:
        listeners.discard(websocket)


def broadcast(cheep):
    message = frame(WebSocket.OPCODE_TEXT, json.dumps(protocol.cheep_message(cheep)).encode())
    for websocket in list(listeners):
        try:
            websocket.write(message)
        except WebSocketError:
            pass  # it is gone; its own greenlet is ending
    gevent.sleep(0)  # let the outboxes' senders run now, before the next cheep is read


def ping_forever():
    """Ping every page now and then, and drop the ones that have stopped answering:
    a laptop closed or a Wi-Fi gone does not say goodbye."""
    while True:
        gevent.sleep(PING_SECONDS)
        for websocket in list(listeners):
            if time.monotonic() - websocket.last_heard > 2 * PING_SECONDS:
                websocket.abort()
            else:
                try:
                    websocket.send_frame(b"", WebSocket.OPCODE_PING)
                except WebSocketError:
                    pass


def close_all(code, reason):
    """Send every page a close frame; a stalled page's waits in its outbox."""
    for websocket in list(listeners):
        websocket.close(code, reason)
