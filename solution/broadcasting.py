"""Every cheep to every connected page, without waiting for the slow ones.

Each page has a Listener: an outbox of messages waiting for it, and a greenlet
that sends them. A broadcast only puts the message in every outbox, so a page
that stops reading holds up nobody else. When its outbox is full, it is
dropped; it reconnects and catches up when it can.
"""
import json
import os
import time
from contextlib import contextmanager

import gevent
from gevent.queue import Full, Queue
from geventwebsocket.exceptions import WebSocketError

import protocol

OUTBOX_LIMIT = 100  # messages waiting for one page; a page further behind is dropped
PING_SECONDS = float(os.environ.get("CHEEPER_PING_SECONDS", "20"))
PING = object()  # in an outbox: "send a ping here"

listeners = set()  # a Listener for every page connected now


class Listener:
    def __init__(self, websocket):
        self.websocket = websocket
        self.outbox = Queue(OUTBOX_LIMIT)
        self.sender = gevent.spawn(self.send_forever)

    def send(self, message):
        """Queue a message for this page. Never waits."""
        try:
            self.outbox.put_nowait(message)
        except Full:
            self.websocket.abort()  # too far behind

    def send_forever(self):
        try:
            for message in self.outbox:
                if message is PING:
                    self.websocket.send_frame(b"", self.websocket.OPCODE_PING)
                else:
                    self.websocket.send(message)
        except WebSocketError:
            self.websocket.abort()  # it went away: stop reading from it too


@contextmanager
def listening(websocket):
    """Broadcast to this page for as long as the with-block runs."""
    listener = Listener(websocket)
    listeners.add(listener)
    try:
        yield listener
    finally:
        listeners.discard(listener)
        listener.sender.kill()


def broadcast(cheep):
    message = json.dumps(protocol.cheep_message(cheep))
    for listener in list(listeners):
        listener.send(message)
    gevent.sleep(0)  # let the senders run now, before the next cheep is read


def ping_forever():
    """Ping every page now and then, and drop the ones that have stopped answering:
    a laptop closed or a Wi-Fi gone does not say goodbye."""
    while True:
        gevent.sleep(PING_SECONDS)
        for listener in list(listeners):
            if time.monotonic() - listener.websocket.last_heard > 2 * PING_SECONDS:
                listener.websocket.abort()
            else:
                listener.send(PING)


def close_all(code, reason):
    """Send every page a close frame, waiting a second at most for stalled ones."""
    goodbyes = [gevent.spawn(listener.websocket.close, code, reason) for listener in list(listeners)]
    gevent.joinall(goodbyes, timeout=1)
