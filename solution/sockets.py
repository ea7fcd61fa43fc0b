"""One WebSocket: gevent-websocket's, with what a server open to a whole room needs.

CheckedWebSocket limits the size of a message and how many frames a socket may
send, lets the others have a turn after every frame it reads, sends close
frames with a real code, notes when the client was last heard from (for the
pings in all_sockets.py), and never makes its caller wait to send: what the
network does not take at once waits in an outbox.
"""

import socket
import struct
import time
from collections import deque
from contextlib import suppress

import gevent
from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.websocket import Header, WebSocket

import limits
import protocol

# What the operating system may hold for one socket, waiting to be sent. Left to
# itself it grows to megabytes for a client that has stopped reading.
SEND_BUFFER = 64 * 1024  # bytes
OUTBOX_LIMIT = 100  # frames in one page's outbox; a page further behind is dropped


class MessageTooBig(Exception):
    pass


class TooManyFrames(Exception):
    pass


class CheckedWebSocket(WebSocket):
    def __init__(self, environ, stream, handler):
        super().__init__(environ, stream, handler)
        self.visitor = environ["cheeper.visitor"]  # the person: their sockets and cheeps are counted together
        self.frames = limits.TokenBucket(limits.FRAME_BURST, limits.FRAMES_PER_SECOND)
        self.last_heard = time.monotonic()
        self.message_size = 0
        self.outbox = deque()  # frames, or their ends, that the network has not taken yet
        self.sender = None  # the greenlet that sends them, while there are any

    def read_frame(self):
        """gevent-websocket's read_frame, but a frame too big is refused before it is
        read, and every frame counts against the socket's budget."""
        header = Header.decode_header(self.stream)
        if header.flags or not header.mask:
            raise ProtocolError("Reserved bits set, or a frame from a client not masked.")
        if not self.frames.allow():  # pings, pongs and pieces of messages count too
            raise TooManyFrames
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY):
            self.message_size = 0  # a new message; continuation frames add to it
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY, self.OPCODE_CONTINUATION):
            self.message_size += header.length
        if self.message_size > protocol.MESSAGE_LIMIT:
            raise MessageTooBig
        payload = self.raw_read(header.length) if header.length else b""
        if len(payload) != header.length:
            raise WebSocketError("The connection ended in the middle of a frame.")
        self.last_heard = time.monotonic()
        # gevent switches greenlets only when one waits, and reading a socket whose
        # bytes are already there never waits: give the others a turn after every
        # frame, so that a socket sending without pause holds nobody up meanwhile.
        gevent.sleep(0)
        return header, header.unmask_payload(payload)

    def receive(self):
        try:
            return super().receive()
        except MessageTooBig:
            self.close(1009, protocol.MESSAGE_TOO_BIG)
        except TooManyFrames:
            self.close(1008, protocol.TOO_MANY_FRAMES)
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

    def finish(self):
        """After the socket's view returned: send what the outbox still holds (a close
        frame, perhaps), then end the connection, and the sender with it."""
        if self.sender is not None:
            self.sender.join(timeout=1)
        self.abort()


def frame(opcode, payload):
    """A whole frame from the server, as bytes. A server does not mask its frames,
    so one text frame is the same bytes for every page."""
    return Header.encode_header(True, opcode, b"", len(payload), 0) + payload
