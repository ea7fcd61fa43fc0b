"""gunicorn's settings for running Cheeper as several workers: see docs/many-workers.md.

Each worker is a gevent server, like 'python server.py', and Redis carries
every cheep between them. From this folder:

    CHEEPER_REDIS_URL=redis://localhost:6379/0 WORKERS=4 ../.venv/bin/python -m gunicorn -c gunicorn.conf.py

(`make solution-prod WORKERS=4` runs this.) gunicorn runs on Linux and macOS, not Windows.
"""

import os
import secrets
import sys

import gevent
from geventwebsocket.gunicorn.workers import GeventWebSocketWorker

import all_sockets
import limits
from handler import CheckedHandler

wsgi_app = "server:create_app()"  # each worker builds its own app, as 'python server.py' does
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WORKERS", "4"))
# Connections a worker takes at once: as many as its open files allow, so that past
# what it holds (limits.CAPACITY) it can still answer a newcomer with 503, rather
# than leave them waiting.
worker_connections = limits.OPEN_FILES - limits.FILES_IN_RESERVE
graceful_timeout = 5  # seconds a stopping worker waits for its pages to close
control_socket_disable = True  # gunicorn's runtime control: not needed, and one per user


class CheeperWorker(GeventWebSocketWorker):
    """gevent-websocket's worker, with Cheeper's checks on every socket."""

    wsgi_handler = CheckedHandler

    def handle_exit(self, sig, frame):
        # SIGTERM (systemd, docker stop, a new deploy): pages hear 1001 and reconnect.
        gevent.spawn(all_sockets.say_goodbye)
        super().handle_exit(sig, frame)


worker_class = CheeperWorker

# One instructor key for every worker: each reads it as it starts (instructor.py).
os.environ.setdefault("CHEEPER_INSTRUCTOR_KEY", secrets.token_urlsafe(24))


def when_ready(server):
    """Once gunicorn listens: the instructor's link (with the key every worker takes)."""
    import instructor  # only now: it reads the key set above

    instructor.print_link(*bind.rsplit(":", 1))


def worker_int(worker):
    """Ctrl+C: the same goodbye to every page."""
    all_sockets.say_goodbye()


if workers > 1 and not os.environ.get("CHEEPER_REDIS_URL"):
    sys.exit(
        "Several workers share their cheeps through Redis: start redis-server and set\n"
        "CHEEPER_REDIS_URL=redis://localhost:6379/0 (or run one worker: WORKERS=1)."
    )
