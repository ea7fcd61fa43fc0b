"""The floor of the benchmark: the cheapest fan-out this machine can do, to read
every other server's figures against. No framework and no storing: one thread,
plain sockets, and for each cheep received, one send() of the same prebuilt
frame to each connected socket. What it costs is mostly the operating system's.

It speaks just enough WebSocket for the benchmark's clients (bench/load.py):
the handshake, and unmasking the frames they send. Anything else it ignores.
"""

import base64
import hashlib
import os
import selectors
import socket

PORT = int(os.environ.get("PORT", "5000"))
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC11B65"  # the WebSocket standard's, for the handshake's answer

selector = selectors.DefaultSelector()
clients = []  # sockets that did the WebSocket handshake
received = {}  # socket -> bytes read and not used yet


def accept(listener):
    client, _ = listener.accept()
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    received[client] = b""
    selector.register(client, selectors.EVENT_READ)


def handshake(client, request):
    """Answer the HTTP request: the upgrade, or a plain "ok" (the benchmark asks / to know we are up)."""
    headers = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
    if "Sec-WebSocket-Key" not in headers:
        client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        return False
    accept_key = base64.b64encode(hashlib.sha1((headers["Sec-WebSocket-Key"] + GUID).encode()).digest())
    client.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key + b"\r\n\r\n"
    )
    clients.append(client)
    return True


def texts(data):
    """The texts of the complete (masked) frames at the start of data, and the rest."""
    found = []
    while len(data) >= 6:
        length, header = data[1] & 0x7F, 2
        if length == 126:
            length, header = int.from_bytes(data[2:4], "big"), 4
        if len(data) < header + 4 + length:
            break
        mask, payload = data[header : header + 4], data[header + 4 : header + 4 + length]
        found.append(bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload)))
        data = data[header + 4 + length :]
    return found, data


def broadcast(text):
    header = bytes([0x81, len(text)]) if len(text) < 126 else bytes([0x81, 126]) + len(text).to_bytes(2, "big")
    frame = header + text  # built once, sent as it is to everyone
    for client in clients:
        client.send(frame)  # the floor: no checking what was taken, no waiting


def read(client):
    data = client.recv(65536)
    if not data:
        selector.unregister(client)
        del received[client]
        if client in clients:
            clients.remove(client)
        client.close()
        return
    data = received[client] + data
    if client not in clients:
        if b"\r\n\r\n" not in data:
            received[client] = data
            return
        request, data = data.split(b"\r\n\r\n", 1)
        if not handshake(client, request):
            selector.unregister(client)
            del received[client]
            client.close()
            return
    found, received[client] = texts(data)
    for text in found:
        broadcast(text)


def main():
    listener = socket.create_server(("127.0.0.1", PORT), backlog=4096)
    selector.register(listener, selectors.EVENT_READ)
    print(f"floor on port {PORT}", flush=True)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                accept(listener)
            else:
                read(key.fileobj)


if __name__ == "__main__":
    main()
