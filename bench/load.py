"""The load generator of the fan-out benchmark: many WebSocket clients in one
process, as cheap as a client can be, so that the benchmark measures the server.

Each client is a plain socket: one handshake, then it only counts the text
frames it receives. Frames are not unmasked or decoded (a server's frames are
never masked), and one select loop serves every client of the process.
A process reports, for each message, the moment its last client had it.

What the clients speak is a protocol object: CHEEPER here, Cheeper's own
WebSocket; bench/socketio_load.py has Socket.IO's, for the Flask-SocketIO peer.
"""

import base64
import json
import os
import selectors
import socket
import time

HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def open_client(port, receive_buffer=None, source="127.0.0.1", path="/ws"):
    """A connected WebSocket client socket, handshake done, and the bytes that came
    after it; from the address `source` (on Linux, any of 127.0.0.0/8: another
    person, to the server)."""
    client = socket.socket()
    if receive_buffer:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    client.bind((source, 0))
    client.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    client.sendall(HANDSHAKE.format(path=path, port=port, key=key).encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = client.recv(4096)
        if not chunk:
            raise ConnectionError("The server closed the connection during the handshake.")
        answer += chunk
    if not answer.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"Handshake refused: {answer.splitlines()[0]!r}")
    return client, answer.split(b"\r\n\r\n", 1)[1]


def client_frame(payload):
    """A text frame as a client must send it: masked. A mask of zeros leaves the bytes as they are."""
    length = len(payload)
    header = bytes([0x81, 0x80 | length]) if length < 126 else bytes([0x81, 0xFE]) + length.to_bytes(2, "big")
    return header + b"\x00\x00\x00\x00" + payload


def frames_in(buffer):
    """The complete text frames at the start of buffer: ([(start, end) of each one's
    text], bytes used)."""
    texts, used = [], 0
    while len(buffer) - used >= 2:
        length = buffer[used + 1] & 0x7F
        header = 2
        if length == 126:
            header = 4
            if len(buffer) - used < 4:
                break
            length = int.from_bytes(buffer[used + 2 : used + 4], "big")
        elif length == 127:
            header = 10
            if len(buffer) - used < 10:
                break
            length = int.from_bytes(buffer[used + 2 : used + 10], "big")
        if len(buffer) - used < header + length:
            break
        if buffer[used] & 0x0F == 0x1:
            texts.append((used + header, used + header + length))
        used += header + length
    return texts, used


class Cheeper:
    """Cheeper's own protocol: every text frame the server sends is a cheep."""

    path = "/ws"

    def join(self, client, rest):
        return rest  # nothing to say after the handshake

    def is_cheep(self, text):
        return True

    def answer(self, text):
        return None  # nothing a client must answer: the browser answers pings itself

    def cheep(self, message):
        return client_frame(json.dumps(message).encode())


CHEEPER = Cheeper()


def connect(port, protocol, **options):
    """A client that has joined: its socket, and what it already received."""
    client, rest = open_client(port, path=protocol.path, **options)
    return client, bytearray(protocol.join(client, rest))


def run(port, clients, control, protocol=CHEEPER):
    """A generator process: connect `clients` clients, tell the parent, then report
    (message number, time its last client got it) until told to stop."""
    started = time.perf_counter()
    sockets, buffers = [], []
    for _ in range(clients):
        client, buffer = connect(port, protocol)
        sockets.append(client)
        buffers.append(buffer)
    control.send(("connected", time.perf_counter() - started))
    received = [0] * clients  # text frames each client has had
    complete = {}  # message number -> how many of this process's clients have it
    selector = selectors.DefaultSelector()
    for index, client in enumerate(sockets):
        client.setblocking(False)
        selector.register(client, selectors.EVENT_READ, index)
    selector.register(control, selectors.EVENT_READ, None)
    while True:
        for key, _ in selector.select():
            if key.data is None:
                if control.recv() == "stop":
                    control.send(("cpu", time.process_time()))
                    return
                control.send(("cpu", time.process_time()))
                continue
            index = key.data
            chunk = key.fileobj.recv(262144)
            if not chunk:
                selector.unregister(key.fileobj)
                control.send(("closed", index))
                continue
            buffer = buffers[index]
            buffer += chunk
            found, used = frames_in(buffer)
            texts = 0
            for start, end in found:
                text = buffer[start:end]
                if protocol.is_cheep(text):
                    texts += 1
                elif reply := protocol.answer(text):
                    key.fileobj.sendall(reply)
            del buffer[:used]
            for number in range(received[index] + 1, received[index] + texts + 1):
                complete[number] = complete.get(number, 0) + 1
                if complete[number] == clients:
                    control.send(("done", number, time.perf_counter()))
                    del complete[number]
            received[index] += texts
