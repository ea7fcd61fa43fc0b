"""Every WebSocket open now, on /ws and on /echo: pinged now and then, so that a
vanished page is dropped, and told goodbye when the server stops.

handler.py adds each socket as it opens, and takes it out when it ends.
"""

import os
import time

import gevent
from geventwebsocket.exceptions import WebSocketError
from geventwebsocket.websocket import WebSocket

import protocol

PING_SECONDS = float(os.environ.get("CHEEPER_PING_SECONDS", "20"))

open_now = set()  # every CheckedWebSocket open now (sockets.py)


def ping_forever():
    """Ping every socket now and then, and drop the ones that have stopped answering:
    a laptop closed or a Wi-Fi gone does not say goodbye."""
    while True:
        gevent.sleep(PING_SECONDS)
        for websocket in list(open_now):
            if time.monotonic() - websocket.last_heard > 2 * PING_SECONDS:
                websocket.abort()
            else:
                try:
                    websocket.send_frame(b"", WebSocket.OPCODE_PING)
                except WebSocketError:
                    pass


def say_goodbye():
    """As the server stops: send every socket a close frame with 1001, "going away",
    so that the pages reconnect as soon as it is back. A stalled page's frame waits
    in its outbox."""
    for websocket in list(open_now):
        websocket.close(1001, protocol.RESTARTING)
