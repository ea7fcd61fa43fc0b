"""Every cheep to every connected page, without waiting for the slow ones.

A broadcast builds the cheep's frame once, and writes it to every page's
socket. The network takes it at once from any page that reads; for a page that
stopped reading, it waits in that page's outbox (see CheckedWebSocket.write in
sockets.py), so the page holds up nobody else. When its outbox is full, it is
dropped; it reconnects and catches up when it can.
"""
import json
from contextlib import contextmanager

import gevent
from geventwebsocket.exceptions import WebSocketError
from geventwebsocket.websocket import WebSocket

import protocol
from sockets import frame

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
