"""gevent-websocket, with what a server open to a whole room needs.

CheckedHandler refuses, before the handshake, sockets opened by other sites'
pages and too many sockets from one address. CheckedWebSocket limits the size
of a message, sends close frames with a real code, notes when the client was
last heard from, and never makes its caller wait to send: what the network
does not take at once waits in an outbox.
"""
import os
import socket
import struct
import time
from collections import Counter, deque
from contextlib import suppress

import gevent
from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Header, Stream, WebSocket

from protocol import MESSAGE_LIMIT

# Other sites whose pages may open the socket, separated by spaces:
# CHEEPER_ALLOWED_ORIGINS="https://cheeper.example http://localhost:8000"
ALLOWED_ORIGINS = set(os.environ.get("CHEEPER_ALLOWED_ORIGINS", "").split())
SOCKETS_PER_ADDRESS = int(os.environ.get("CHEEPER_SOCKETS_PER_ADDRESS", "20"))
# Proxies in front of Cheeper, such as nginx, separated by spaces. Every socket
# comes from a proxy's address, so the person's own is read from the
# X-Forwarded-For header the proxy adds: CHEEPER_TRUSTED_PROXIES="127.0.0.1"
TRUSTED_PROXIES = set(os.environ.get("CHEEPER_TRUSTED_PROXIES", "").split())
# What the operating system may hold for one socket, waiting to be sent. Left to
# itself it grows to megabytes for a client that has stopped reading.
SEND_BUFFER = 64 * 1024  # bytes
sockets_per_visitor = Counter()  # how many sockets each address holds open now
OUTBOX_LIMIT = 100  # frames in one page's outbox; a page further behind is dropped


class CheckedHandler(WebSocketHandler):
    def handle(self):
        # Send every response and frame at once. Otherwise the network stack holds
        # back a small write until the last one is acknowledged: up to 40 ms each.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()

    def upgrade_websocket(self):
        # gevent-websocket completes the handshake before Flask sees the request,
        # so a socket is refused here, while the answer can still be an HTTP status.
        if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            origin = self.environ.get("HTTP_ORIGIN")  # browsers always send it
            if origin is not None and origin not in self.allowed_origins():
                return self.refuse("403 Forbidden", f"Pages from {origin} may not open Cheeper's socket.")
            if sockets_per_visitor[self.visitor()] >= SOCKETS_PER_ADDRESS:
                return self.refuse(
                    "429 Too Many Requests",
                    f"At most {SOCKETS_PER_ADDRESS} sockets from one address: close a few Cheeper pages.",
                )
        return super().upgrade_websocket()

    def allowed_origins(self):
        host = self.environ.get("HTTP_HOST", "")  # the address the page itself came from
        return {f"http://{host}", f"https://{host}"} | ALLOWED_ORIGINS

    def visitor(self):
        """The address of the person's computer."""
        address = self.client_address[0]
        if address in TRUSTED_PROXIES:
            # The proxy adds the address it was reached from at the end.
            forwarded = self.environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
            address = forwarded or address
        return address

    def refuse(self, status, reason):
        self.start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
        return [reason.encode() + b"\n"]

    def upgrade_connection(self):
        response = super().upgrade_connection()
        if self.environ.get("wsgi.websocket"):
            # Use our WebSocket on this connection instead of gevent-websocket's.
            self.websocket.closed = True  # so the unused one sends no close frame
            self.websocket = CheckedWebSocket(self.environ, Stream(self), self)
            self.environ["wsgi.websocket"] = self.websocket
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        return response

    def run_websocket(self):
        websocket = self.websocket
        sockets_per_visitor[websocket.visitor] += 1
        try:
            super().run_websocket()
        finally:
            sockets_per_visitor[websocket.visitor] -= 1
            if not sockets_per_visitor[websocket.visitor]:
                del sockets_per_visitor[websocket.visitor]  # so it does not grow with every visitor ever
            if websocket.sender is not None:
                websocket.sender.join(timeout=1)  # what the outbox still holds: a close frame, perhaps
                websocket.abort()  # a page that still does not read: its sender stops too


class MessageTooBig(Exception):
    pass


class CheckedWebSocket(WebSocket):
    def __init__(self, environ, stream, handler):
        super().__init__(environ, stream, handler)
        self.visitor = handler.visitor()  # counted in sockets_per_visitor
        self.last_heard = time.monotonic()
        self.message_size = 0
        self.outbox = deque()  # frames, or their ends, that the network has not taken yet
        self.sender = None  # the greenlet that sends them, while there are any

    def read_frame(self):
        """gevent-websocket's read_frame, but a frame too big is refused before it is read."""
        header = Header.decode_header(self.stream)
        if header.flags or not header.mask:
            raise ProtocolError("Reserved bits set, or a frame from a client not masked.")
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY):
            self.message_size = 0  # a new message; continuation frames add to it
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY, self.OPCODE_CONTINUATION):
            self.message_size += header.length
        if self.message_size > MESSAGE_LIMIT:
            raise MessageTooBig
        payload = self.raw_read(header.length) if header.length else b""
        if len(payload) != header.length:
            raise WebSocketError("The connection ended in the middle of a frame.")
        self.last_heard = time.monotonic()
        return header, header.unmask_payload(payload)

    def receive(self):
        try:
            return super().receive()
        except MessageTooBig:
            self.close(1009, f"Message too big: the limit is {MESSAGE_LIMIT} bytes.")
            return None

    def send_frame(self, message, opcode):
        """gevent-websocket's send_frame, but it never waits: see write()."""
        if isinstance(message, str):
            message = message.encode()
        self.write(frame(opcode, message))

    def write(self, whole_frame):
        """Send a frame without waiting. The network almost always takes it at once;
        what it does not take goes to the outbox, after any frames already there."""
        if self.closed:
            raise WebSocketError("The connection is closed.")
        if not self.outbox:
            try:
                sent = self.handler.socket.send(whole_frame, 0, 0.0)  # 0.0: a timeout of none at all
            except BlockingIOError:
                sent = 0
            except OSError:
                self.abort()
                raise WebSocketError("The connection is gone.") from None
            whole_frame = whole_frame[sent:]
            if not whole_frame:
                return
        if len(self.outbox) >= OUTBOX_LIMIT:
            self.abort()  # too far behind
            return
        self.outbox.append(whole_frame)
        if self.sender is None:
            self.sender = gevent.spawn(self.send_outbox)

    def send_outbox(self):
        # While the outbox holds anything, only this greenlet writes to the
        # socket: two writers could mix their frames' bytes.
        try:
            while self.outbox:
                self.handler.socket.sendall(self.outbox[0])
                self.outbox.popleft()
        except (OSError, AttributeError):  # gone; AttributeError: its handler let go of the socket
            self.abort()
        finally:
            self.sender = None

    def close(self, code=1000, reason=b""):
        """Send a close frame with its code (gevent-websocket 0.10.1 leaves the code out)."""
        if self.closed:
            return
        if isinstance(reason, str):
            reason = reason.encode()
        reason = reason or b""  # a close frame from the client may have none
        try:
            self.send_frame(struct.pack("!H", code) + reason, self.OPCODE_CLOSE)
        except WebSocketError:
            pass  # the connection is gone already
        finally:
            self.closed = True

    def abort(self):
        """End the connection without a goodbye: for a client that stopped reading or answering."""
        self.closed = True
        with suppress(AttributeError, OSError):  # already gone
            self.handler.socket.shutdown(socket.SHUT_RDWR)


def frame(opcode, payload):
    """A whole frame from the server, as bytes. A server does not mask its frames,
    so one text frame is the same bytes for every page."""
    return Header.encode_header(True, opcode, b"", len(payload), 0) + payload
