"""Long polling: a GET that waits for the next cheep, for networks that block WebSockets.

GET /api/cheeps?since=<id>&wait=1 answers at once when a cheep newer than <id>
is stored. Otherwise it waits, up to WAIT_SECONDS, and answers as soon as one
is; when none comes, it answers an empty list, and the page asks again.

Every waiting request waits on one gevent Event. broadcasting.broadcast sets it
for each cheep this worker's pages get (its own, and, with several workers,
those relay.py hears of), and puts a new one in its place; each waiter wakes
and reads the storage again.
"""
import os
import time
from contextlib import contextmanager

from gevent.event import Event

# Below the 60 s after which many proxies give up on a quiet request.
WAIT_SECONDS = float(os.environ.get("CHEEPER_WAIT_SECONDS", "25"))

news = Event()  # set when a cheep arrives; a new one waits for the next


def tell_waiters():
    """A cheep reached this worker: every waiting request looks again."""
    global news
    arrived, news = news, Event()
    arrived.set()


def cheeps_since(storage, since, count):
    """The cheeps after the id `since`, oldest first, as soon as there is one;
    an empty list when WAIT_SECONDS pass without one."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        # The Event first, then the storage: a cheep stored after the read sets it.
        next_news = news
        cheeps = storage.cheeps_since(since, count)
        left = deadline - time.monotonic()
        if cheeps or left <= 0:
            return cheeps
        next_news.wait(left)


@contextmanager
def counted(visitor):
    """A waiting request counts as one of the person's live connections (limits.py)."""
    visitor.waiting += 1
    try:
        yield
    finally:
        visitor.waiting -= 1
