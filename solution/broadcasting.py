"""Every cheep to every connected page, without waiting for the slow ones.

A broadcast builds the cheep's frame once, and writes it to every page's
socket. The network takes it at once from any page that reads; for a page that
stopped reading, it waits in that page's outbox (see CheckedWebSocket.write in
sockets.py), so the page holds up nobody else. When its outbox is full, it is
dropped; it reconnects and catches up when it can.

The instructor's removals go to every page the same way (announce), and what
only the instructor's pages need to know (mutes, the room's progress), to those.
"""

import json
from contextlib import contextmanager

import gevent
from geventwebsocket.exceptions import WebSocketError
from geventwebsocket.websocket import WebSocket

import instructor
import protocol
from sockets import frame

listeners = set()  # the WebSocket of every page connected now
instructors = set()  # those of them on the instructor's pages
FOR_THE_INSTRUCTOR = {"muted", "unmuted", "progress"}  # message types only the instructor's pages get


@contextmanager
def listening(websocket, for_the_instructor=False):
    """Broadcast to this page for as long as the with-block runs."""
    listeners.add(websocket)
    if for_the_instructor:
        instructors.add(websocket)
    try:
        yield
    finally:
        listeners.discard(websocket)
        instructors.discard(websocket)


def broadcast(cheep):
    send_to(listeners, protocol.cheep_message(cheep))


def announce(message):
    """A removal to every page; a mute or a report to the instructor's pages."""
    instructor.hear(message)
    send_to(instructors if message["type"] in FOR_THE_INSTRUCTOR else listeners, message)


def send_to(pages, message):
    whole_frame = frame(WebSocket.OPCODE_TEXT, json.dumps(message).encode())
    for websocket in list(pages):
        try:
            websocket.write(whole_frame)
        except WebSocketError:
            pass  # it is gone; its own greenlet is ending
    gevent.sleep(0)  # let the outboxes' senders run now, before the next message is read
