"""Run a stage's server.py as a real process, the way a person runs it."""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests
import websocket

from waits import START_TIMEOUT, STOP_TIMEOUT, WAIT
from workshop.stages import ROOT
from workshop.starting import PORT_TRIES, free_port, port_taken


def as_a_shell_starts_it(open_files=None):
    """What to do in the server's process before it starts: restore Ctrl+C, and
    set how many files it may open, (soft, hard), when given."""

    def prepare():
        # A shell that starts a job in the background makes it ignore Ctrl+C
        # (SIGINT), and children inherit that: give the server the usual handling.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if open_files:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, open_files)

    return prepare


# Every test's clients come from one address, 127.0.0.1, as a whole room's do behind
# one proxy: the solution is told how many people that may be, so that its limits
# for one person do not refuse a test's crowd. The tests of those limits say
# CHEEPER_PEOPLE_PER_ADDRESS="1" (other stages know no such setting).
SHARED_ADDRESS = {"CHEEPER_PEOPLE_PER_ADDRESS": "1000"}


class ServerProcess:
    """`python <app>/server.py` on a free port, with its own SQLite file,
    any settings given in `env` (CHEEPER_PING_SECONDS="1", say), and the
    limit of open files given in `open_files`."""

    def __init__(self, app_dir, database, port=None, env=None, open_files=None):
        self.app_dir = Path(app_dir)
        self.database = Path(database)
        self.settings = env or {}
        self.open_files = open_files  # (soft, hard): how many files it may open, as `ulimit -n` says
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A port we picked may be taken by another process before the server binds it
        # (tests run side by side): the first start then tries another, up to PORT_TRIES in all.
        self.moves_left = PORT_TRIES - 1 if port is None else 0
        self.process = None
        self.sockets = []

    def start(self, wait=True):
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "CHEEPER_DB": str(self.database),
            "PYTHONUNBUFFERED": "1",
            **SHARED_ADDRESS,
            **self.settings,
        }
        self.log = tempfile.TemporaryFile()
        command, folder = self.command()
        self.process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=as_a_shell_starts_it(self.open_files) if os.name == "posix" else None,
        )
        if wait:
            try:
                self.wait_until_ready()
            except AssertionError:
                taken = self.moves_left > 0 and port_taken(self.output(), self.port)
                self.kill()  # one that listens elsewhere would hold that port for the tests after it
                if not taken:
                    raise
                self.moves_left -= 1
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
                return self.start()
        self.moves_left = 0  # a restart keeps its port: the pages come back to it
        return self

    def command(self):
        """The command that starts the server, and the folder it starts in."""
        return [sys.executable, str(self.app_dir / "server.py")], ROOT

    def wait_until_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"The server stopped as it started (exit code {self.process.returncode}). "
                    f"It printed:\n{self.output()}"
                )
            # Our own process must be the one listening: with tests running side by
            # side, another one's server may hold the port for a moment.
            if self.listens():
                try:
                    requests.get(self.url + "/", timeout=5)
                    return
                except requests.Timeout:
                    return  # it took the request, and is busy: a crowd of pages coming back
                except requests.ConnectionError:
                    pass  # not yet
            time.sleep(0.05)
        raise AssertionError(
            f"The server did not answer on {self.url} within {START_TIMEOUT} s. It printed:\n{self.output()}"
        )

    def listens(self):
        """Whether this server's process listens on its port."""
        with contextlib.suppress(psutil.Error):
            for connection in psutil.Process(self.process.pid).net_connections("tcp"):
                if connection.status == psutil.CONN_LISTEN and connection.laddr.port == self.port:
                    return True
        return False

    def output(self):
        """Everything the server printed so far."""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def rows(self):
        """Every row of its SQLite file, each as text, whatever the tables are called: evidence,
        when a cheep does not show, of what was stored."""
        if not self.database.exists():
            return []
        with contextlib.closing(sqlite3.connect(f"{self.database.as_uri()}?mode=ro", uri=True)) as db:
            tables = [
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            return [str(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')]

    def wait_for_exit(self, timeout=START_TIMEOUT):
        """Wait for the server to stop by itself; return what it printed."""
        self.process.wait(timeout=timeout)
        return self.output()

    def stop(self, close_sockets=True, how=signal.SIGINT):
        """Stop the server with Ctrl+C, as a person does (or `how`: signal.SIGTERM,
        as a service manager does); return what it printed."""
        if close_sockets:
            self.close_sockets()
        if self.process.poll() is None:
            if os.name == "posix":
                self.process.send_signal(how)
            else:
                self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"The server did not stop within {STOP_TIMEOUT} s of Ctrl+C.") from None
        return self.output()

    def restart(self, close_sockets=True):
        """Stop and start again, on the same port and database."""
        self.stop(close_sockets)
        return self.start()

    def crash(self):
        """Stop the server the hard way, as a crash or a power cut does: SIGKILL,
        no goodbye to anyone. Its clients' sockets are left for them to notice."""
        self.process.kill()
        self.process.wait()

    def kill(self):
        self.close_sockets()
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def connect(self, path="/ws", **options):
        """A real WebSocket client, connected to this server (options: websocket-client's,
        such as origin="http://elsewhere.example")."""
        client = websocket.create_connection(f"ws://127.0.0.1:{self.port}{path}", timeout=WAIT, **options)
        self.sockets.append(client)
        return client

    def close_sockets(self):
        for client in self.sockets:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                client.close(timeout=1)
        self.sockets.clear()


class Gunicorn(ServerProcess):
    """The app as several workers under gunicorn, with its gunicorn.conf.py
    (settings: WORKERS="2", CHEEPER_REDIS_URL=...). Stopped with SIGTERM, as
    gunicorn is in a deployment."""

    def command(self):
        return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], self.app_dir

    def workers(self):
        """The worker processes."""
        return psutil.Process(self.process.pid).children()
