"""How much one person may do, and how many connections the server can hold.

A person is known by the address of their computer: all of its tabs count
together, and a reload or a new socket starts from where the last one left off.
(Behind a proxy named in CHEEPER_TRUSTED_PROXIES, the address the proxy names.)
"""

import math
import os
import time

# A room whose people all reach Cheeper through one address (a school's proxy,
# a VPN) says how many they are: each limit of one address grows that many times.
PEOPLE_PER_ADDRESS = int(os.environ.get("CHEEPER_PEOPLE_PER_ADDRESS", "1"))

CHEEP_BURST = 10 * PEOPLE_PER_ADDRESS  # cheeps one address may send at once...
CHEEPS_PER_SECOND = 5 * PEOPLE_PER_ADDRESS  # ...and then, on average, each second
SOCKETS_PER_ADDRESS = int(os.environ.get("CHEEPER_SOCKETS_PER_ADDRESS", "20")) * PEOPLE_PER_ADDRESS
# Pages and sockets together: a socket for each tab, and 10 more, since a
# browser keeps up to 6 connections for a site's pages and files.
CONNECTIONS_PER_ADDRESS = SOCKETS_PER_ADDRESS + 10 * PEOPLE_PER_ADDRESS

# Frames one socket may send (messages, pings, pongs, pieces of messages):
# far more than a page ever needs. A socket that goes past it is closed.
FRAME_BURST = 100
FRAMES_PER_SECOND = 20

# A request (its head, and its body if any) must arrive whole within this many
# seconds of the connection opening or of the last answer on it. So a
# connection that says nothing, or one byte at a time, is closed.
REQUEST_SECONDS = float(os.environ.get("CHEEPER_REQUEST_SECONDS", "10"))
HEAD_LIMIT = 16 * 1024  # bytes of headers in a request; a browser sends one or two KiB
BODY_LIMIT = 16 * 1024  # bytes in a request's body (a POSTed cheep); a cheep needs far fewer
BODY_THROWN_AWAY = 1024 * 1024  # a body past BODY_LIMIT, up to this, is read before the 413
# Open files kept back from the connections, for the storage, the logs and Redis.
FILES_IN_RESERVE = 64
# Open files asked of the system at most: a cautious round number. The
# connections they allow, about 59,000, take some 1.6 GiB of memory.
MOST_FILES = 65536


class TokenBucket:
    """`burst` at once, then `per_second` more each second: each one takes a
    token, and tokens come back at that pace, up to `burst`."""

    def __init__(self, burst, per_second):
        self.burst = burst
        self.per_second = per_second
        self.tokens = burst
        self.last = time.monotonic()

    def refill(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.per_second)
        self.last = now

    def allow(self):
        self.refill()
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def seconds_to_wait(self):
        """Until the next token comes back: what Retry-After says, in whole seconds."""
        self.refill()
        return max(1, math.ceil((1 - self.tokens) / self.per_second))

    def full(self):
        self.refill()
        return self.tokens == self.burst


class Visitor:
    """What one address is doing now."""

    def __init__(self, address):
        self.address = address
        self.connections = 0  # open now from this address: pages, files and sockets
        self.sockets = 0  # WebSockets open now (behind a proxy: the person's, where connections are the proxy's)
        self.cheeps = TokenBucket(CHEEP_BURST, CHEEPS_PER_SECOND)

    def forgettable(self):
        # Gone, and with its bucket full again: one that comes back starts as a new one would.
        return not self.connections and not self.sockets and self.cheeps.full()


visitors = {}  # address -> Visitor
last_tidied = time.monotonic()


def visitor(address):
    """The Visitor at this address. Visitors who left and whose bucket is full again
    are forgotten every few seconds, so that the dict does not grow with every
    address ever seen, and a reconnect cannot start afresh."""
    global last_tidied
    if time.monotonic() - last_tidied > 10:
        last_tidied = time.monotonic()
        for gone in [address for address, known in visitors.items() if known.forgettable()]:
            del visitors[gone]
    if address not in visitors:
        visitors[address] = Visitor(address)
    return visitors[address]


def raise_file_limit():
    """Let this process open as many files as the system allows it, up to MOST_FILES
    (each connection is one); return how many that is. Linux and macOS start a
    program with a low limit that it may raise itself: often 1,024 on Linux, 256
    in a macOS shell."""
    try:
        import resource
    except ImportError:  # Windows counts no such limit for sockets
        return 8192
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # macOS calls its ceiling unlimited, yet refuses more than about 10,240.
    ceiling = 10240 if hard == resource.RLIM_INFINITY else hard
    wanted = min(ceiling, MOST_FILES)
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # refused: the limit stays as it was
    return min(soft, MOST_FILES)


def connection_capacity(files):
    """How many connections the server holds at once with this many open files.
    Each connection is one file. Some are kept back for the storage, the logs and
    Redis, and a tenth of the rest for the files that connections send, such as
    jquery.min.js, which stay open while they are sent."""
    return max(1, (files - FILES_IN_RESERVE) * 9 // 10)


# Raised as this module is imported, before the server accepts anyone.
OPEN_FILES = raise_file_limit()
CAPACITY = connection_capacity(OPEN_FILES)  # connections, from everyone together
