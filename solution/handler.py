"""gevent-websocket's handler, with what a server open to a whole room needs.

CheckedHandler meets every connection before Cheeper's own code runs. It
refuses a connection at once when the server is full, or when one address holds
too many; closes one whose request does not arrive whole and soon, or whose
head is too big; answers only to the names Cheeper is known by; and refuses,
before the handshake, sockets opened by other sites' pages and too many sockets
from one address. A socket it opens is a CheckedWebSocket (sockets.py).
"""

import base64
import io
import ipaddress
import os
import socket
from contextlib import suppress
from http.client import HTTPException
from urllib.parse import urlsplit

import gevent
from gevent.pywsgi import Input
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Stream

import all_sockets
import limits
import protocol
from sockets import SEND_BUFFER, CheckedWebSocket

# Other sites whose pages may open the socket, separated by spaces:
# CHEEPER_ALLOWED_ORIGINS="https://cheeper.example http://localhost:8000"
ALLOWED_ORIGINS = set(os.environ.get("CHEEPER_ALLOWED_ORIGINS", "").split())
# The names Cheeper answers to, besides IP addresses and localhost, separated by
# spaces: CHEEPER_ALLOWED_HOSTS="cheeper.example"
ALLOWED_HOSTS = set(os.environ.get("CHEEPER_ALLOWED_HOSTS", "").lower().split())
# Proxies in front of Cheeper, such as nginx, separated by spaces. Every socket
# comes from a proxy's address, so the person's own is read from the
# X-Forwarded-For header the proxy adds: CHEEPER_TRUSTED_PROXIES="127.0.0.1"
TRUSTED_PROXIES = set(os.environ.get("CHEEPER_TRUSTED_PROXIES", "").split())
open_connections = 0  # now, from everyone: at most limits.CAPACITY


class HeadTooBig(ValueError):
    pass


class Refused(Exception):
    """A request answered by the handler itself, which then closes the connection:
    its status, and why, in words."""

    def __init__(self, status, reason, headers=()):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = list(headers)


class CheckedHandler(WebSocketHandler):
    def handle(self):
        """One connection, from its first byte to its end."""
        global open_connections
        # Send every response and frame at once. Otherwise the network stack holds
        # back a small write until the last one is acknowledged: up to 40 ms each.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.peer = self.client_address[0]
        visitor = limits.visitor(self.peer)
        open_connections += 1
        visitor.connections += 1
        try:
            if open_connections > limits.CAPACITY:
                self.refuse_at_once("503 Service Unavailable", protocol.FULL)
            elif visitor.connections > limits.CONNECTIONS_PER_ADDRESS and self.peer not in TRUSTED_PROXIES:
                self.refuse_at_once("429 Too Many Requests", protocol.TOO_MANY_CONNECTIONS)
            else:
                super().handle()  # every request on this connection, one after the other
        except ConnectionError:
            pass  # the client went away in the middle of something: nothing to answer
        finally:
            open_connections -= 1
            visitor.connections -= 1

    def refuse_at_once(self, status, reason):
        """Answer before reading the request, then close: a connection past a limit
        costs the server as little as it can."""
        with suppress(OSError):
            self.socket.sendall(plain_answer(status, reason))
            self.socket.shutdown(socket.SHUT_WR)
            # Read the request's head while the answer travels, for half a second at
            # most: a socket closed with bytes unread is reset, and a reset can lose
            # the answer on its way.
            with gevent.Timeout(0.5, False):
                head = b""
                while b"\r\n\r\n" not in head and (chunk := self.socket.recv(4096)):
                    head = head[-3:] + chunk
        self.socket.close()

    def handle_one_request(self):
        # A connection sending request after request lets everyone else have a turn in between.
        gevent.sleep(0)
        # The request must arrive whole in time: read_request() stops the clock.
        self.deadline = gevent.Timeout.start_new(limits.REQUEST_SECONDS)
        try:
            result = super().handle_one_request()
        except gevent.Timeout as timeout:
            if timeout is not self.deadline:
                raise
            return None  # said nothing, or too slowly: close the connection
        finally:
            if self.deadline is not None:  # no request arrived, or gevent could not read it
                self.deadline.close()
        if isinstance(result, tuple) and result[0] == "414":  # the request line alone is too long
            return "414", plain_answer("414 URI Too Long", protocol.ADDRESS_TOO_LONG)
        return result

    def MessageClass(self, rfile, *args):
        """The request's headers, read from no more than HEAD_LIMIT bytes."""
        return super().MessageClass(LimitedHead(rfile, limits.HEAD_LIMIT), *args)

    def _handle_client_error(self, error):
        """gevent's answer to a request it cannot read, with a reason instead of an empty 400."""
        if isinstance(error, ConnectionError):
            return None  # the client went away: nobody to answer
        if isinstance(error, (HeadTooBig, HTTPException)):  # HTTPException: over 100 headers
            return "431", plain_answer("431 Request Header Fields Too Large", protocol.HEAD_TOO_BIG)
        return "400", plain_answer("400 Bad Request", protocol.UNREADABLE.format(error=error))

    def read_request(self, raw_requestline):
        """The request's head, then its body: all of it must arrive before its time
        runs out, so that a body sent one byte at a time holds nothing up."""
        super().read_request(raw_requestline)
        self.body = self.read_body()
        self.deadline.close()  # it arrived in time
        self.deadline = None  # and a socket open for hours does not keep its timer
        return True

    def read_body(self):
        """The request's body, as bytes; None for a request without one."""
        declared = self.content_length or 0
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        if not declared and not chunked:
            return None
        asks_first = self.headers.get("Expect", "").lower() == "100-continue"  # curl does, for a big body
        body_input = Input(self.rfile, self.content_length, self.socket if asks_first else None, chunked)
        if declared > limits.BODY_LIMIT:  # Flask answers 413, without looking at it
            self.close_connection = True
            if declared <= limits.BODY_THROWN_AWAY and not asks_first:
                # Read it and throw it away: a connection closed with bytes unread
                # is reset, and a reset can lose the answer on its way.
                while body_input.read(65536):
                    pass
            return b""
        body = body_input.read(limits.BODY_LIMIT + 1)
        self.close_connection |= len(body) > limits.BODY_LIMIT  # the rest is never read: closed after the 413
        return body

    def get_environ(self):
        """The request, for Flask, with its body (read already) and the person who sent it."""
        environ = super().get_environ()
        if self.body is not None:
            environ["wsgi.input"] = io.BytesIO(self.body)
            self.wsgi_input = Input(io.BytesIO(), 0)  # for gevent: nothing is left to read after the answer
        environ["cheeper.visitor"] = limits.visitor(self.visitor_address(environ))
        return environ

    def start_response(self, status, headers, exc_info=None):
        if self.close_connection and not any(name.lower() == "connection" for name, _ in headers):
            headers = [*headers, ("Connection", "close")]  # this answer is the connection's last: say so
        return super().start_response(status, headers, exc_info)

    def run_application(self):
        try:
            self.check_request()
        except Refused as refused:
            self.close_connection = True
            self.start_response(refused.status, [("Content-Type", "text/plain; charset=utf-8"), *refused.headers])
            self.result = [refused.reason.encode() + b"\n"]
            self.process_result()
        else:
            super().run_application()

    def check_request(self):
        """Refuse, with Refused, a request that Flask must never see. gevent-websocket
        completes a socket's handshake before Flask sees the request, so a socket is
        refused here, while the answer can still be an HTTP status."""
        host = self.environ.get("HTTP_HOST")
        if host is not None and not is_known_host(host):
            raise Refused("400 Bad Request", protocol.UNKNOWN_HOST.format(host=host))
        if not self.opens_a_socket():
            return
        self.check_handshake()
        origin = self.environ.get("HTTP_ORIGIN")  # browsers always send it
        if origin is not None and origin not in self.allowed_origins():
            raise Refused("403 Forbidden", protocol.OTHER_SITE.format(origin=origin))
        if self.environ["cheeper.visitor"].sockets >= limits.SOCKETS_PER_ADDRESS:
            raise Refused("429 Too Many Requests", protocol.TOO_MANY_SOCKETS)

    def opens_a_socket(self):
        """Whether gevent-websocket would answer this request with a handshake."""
        return (
            self.environ["REQUEST_METHOD"] == "GET"
            and self.environ.get("HTTP_UPGRADE", "").lower() == "websocket"
            and "upgrade" in self.environ.get("HTTP_CONNECTION", "").lower()
        )

    def check_handshake(self):
        """What gevent-websocket checks too, but answers with a traceback instead of a reason."""
        if self.request_version != "HTTP/1.1":
            raise Refused("400 Bad Request", protocol.HANDSHAKE_NOT_HTTP_1_1)
        version = self.environ.get("HTTP_SEC_WEBSOCKET_VERSION")
        if version != "13":  # what every browser speaks (7 and 8 were drafts)
            raise Refused(
                "426 Upgrade Required",
                protocol.WEBSOCKET_VERSION.format(version=version or "none"),
                [("Sec-WebSocket-Version", "13")],
            )
        try:
            key = base64.b64decode(self.environ.get("HTTP_SEC_WEBSOCKET_KEY", ""), validate=True)
        except ValueError:
            key = b""
        if len(key) != 16:
            raise Refused("400 Bad Request", protocol.WEBSOCKET_KEY)

    def allowed_origins(self):
        host = self.environ.get("HTTP_HOST", "")  # the address the page itself came from
        return {f"http://{host}", f"https://{host}"} | ALLOWED_ORIGINS

    def visitor_address(self, environ):
        """The address of the person's computer."""
        if self.peer in TRUSTED_PROXIES:
            # The proxy adds the address it was reached from at the end. (gevent joins
            # the header's lines, if there are several, with commas.)
            forwarded = environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
            return forwarded or self.peer
        return self.peer

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
        websocket.visitor.sockets += 1
        all_sockets.open_now.add(websocket)  # pinged from now on, and told goodbye when the server stops
        try:
            super().run_websocket()
        finally:
            all_sockets.open_now.discard(websocket)
            websocket.visitor.sockets -= 1
            websocket.finish()


class LimitedHead:
    """Reads a request's header lines, and raises HeadTooBig past `limit` bytes in all."""

    def __init__(self, rfile, limit):
        self.rfile = rfile
        self.left = limit

    def readline(self, size=-1):
        line = self.rfile.readline(self.left + 1 if size < 0 else min(size, self.left + 1))
        self.left -= len(line)
        if self.left < 0:
            raise HeadTooBig
        return line


def is_known_host(host):
    """Whether the Host header names Cheeper as people reach it: by an IP address,
    as localhost, or by a name in ALLOWED_HOSTS. Any other name may be another
    site's, made to point at this computer (DNS rebinding), so that its pages
    count as Cheeper's own."""
    try:
        name = (urlsplit("//" + host).hostname or "").rstrip(".")
    except ValueError:  # brackets that do not close
        return False
    if name == "localhost" or name in ALLOWED_HOSTS:
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def plain_answer(status, reason):
    """A whole HTTP answer, as bytes: the status, and the reason in plain text."""
    body = reason.encode() + b"\n"
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body
