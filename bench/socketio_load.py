"""Socket.IO for the load generator (bench/load.py), so that the same clients
measure the Flask-SocketIO peer: only what differs from Cheeper's own protocol.

A browser's Socket.IO client starts with HTTP long-polling and upgrades to a
WebSocket after; these clients go straight to the WebSocket, as that client
does with transports: ["websocket"]. Over it, Socket.IO (Engine.IO version 4)
sends text frames that start with a packet type:

    server: 0{"sid": ...}        the open packet, right after the handshake
    client: 40                   join the main namespace, "/"
    server: 40{"sid": ...}       joined
    either: 42["cheep", {...}]   an event, here a cheep
    server: 2                    a ping: a client that does not answer 3 is dropped
"""

import json

import load


class SocketIO:
    path = "/socket.io/?EIO=4&transport=websocket"

    def join(self, client, rest):
        """After the WebSocket handshake: the open packet, then join the namespace."""
        buffer = bytearray(rest)
        buffer = self.wait_for(client, buffer, b"0")
        client.sendall(load.client_frame(b"40"))
        return self.wait_for(client, buffer, b"40")

    def wait_for(self, client, buffer, packet):
        """Read until a frame that starts with `packet`; the bytes after it."""
        while True:
            found, _ = load.frames_in(buffer)
            for start, end in found:
                if buffer[start : start + len(packet)] == packet:
                    return buffer[end:]
            chunk = client.recv(65536)
            if not chunk:
                raise ConnectionError(f"The server closed the connection before it sent {packet!r}.")
            buffer += chunk

    def is_cheep(self, text):
        return text.startswith(b"42")

    def answer(self, text):
        return load.client_frame(b"3") if text == b"2" else None

    def cheep(self, message):
        return load.client_frame(b"42" + json.dumps(["cheep", message]).encode())


SOCKET_IO = SocketIO()
