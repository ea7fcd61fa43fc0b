"""Before any promise: does the app's server start at all?

A server that cannot start (a syntax error, a module that will not import, a
crash as it starts) breaks every promise the same way. So the check starts it
once first, and when it stops as it starts, says why in one line, quoting the
error and the line of your code it came from, and runs nothing else.
"""

import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import psutil

from workshop.crashes import python_crashes
from workshop.stages import ROOT

START_SECONDS = 20  # a cold laptop imports gevent and Flask slowly
PORT_TRIES = 3  # see port_taken()
# What a program says when its port is taken: the system's words on Linux and macOS, then on
# Windows; then Flask's development server's (step 0), and gunicorn's.
TAKEN = re.compile(
    r"Address already in use|Only one usage of each socket address|is in use by another program|Connection in use"
)


def why_it_does_not_start(app):
    """None when the app's server.py starts and listens; otherwise one sentence saying why not."""
    for _ in range(PORT_TRIES):
        port = free_port()
        why, printed = start_once(app, port)
        if not port_taken(printed, port):
            return why
    return why


def start_once(app, port):
    """Start the app's server on `port`: None when it listens there, or one sentence saying
    why not; and, when it stopped, what it printed."""
    with tempfile.TemporaryDirectory() as scratch:
        environment = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "CHEEPER_DB": str(Path(scratch) / "cheeps.db"),
            "PYTHONUNBUFFERED": "1",
        }
        server = subprocess.Popen(
            [sys.executable, str(Path(app).resolve() / "server.py")],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline:
                if server.poll() is not None:
                    printed = server.stdout.read().decode("utf-8", "replace")
                    return stopped(app, server.returncode, printed), printed
                if ports := listening_ports(server):
                    return (None if port in ports else elsewhere(ports[0], port)), ""
                time.sleep(0.05)
            return None, ""  # still starting: the promises will tell what they find
        finally:
            server.kill()
            server.wait()
            server.stdout.close()


def listening_ports(server):
    """The ports the server listens on, if any yet."""
    with suppress(psutil.Error):
        connections = psutil.Process(server.pid).net_connections()
        return [connection.laddr.port for connection in connections if connection.status == psutil.CONN_LISTEN]
    return []


def elsewhere(listening, given):
    return (
        f"Your server does not listen where it was told: it listens on port {listening}, not on {given}, "
        'the port the PORT environment variable gave it. Serve on PORT = int(os.environ.get("PORT", '
        '"5000")), as docs/step0-request-response.md shows in "Where the settings come from".'
    )


def stopped(app, code, printed):
    """What to say of a server that stopped as it started, from what it printed."""
    for crash in python_crashes(app, printed):
        return f"Your server does not start: {crash.error}" + (f" — {crash.place}." if crash.place else "")
    said = " ".join([line.strip() for line in printed.splitlines() if line.strip()][-5:])
    if code == 0 and not said:
        return (
            f"Your server does not start: {app}/server.py ended at once, without an error, and never "
            "listened for requests. Its last lines must start the server and keep it running."
        )
    return f"Your server does not start: it stopped (exit code {code}), saying: {said or 'nothing'}"


def free_port():
    """A port nothing listens on, for a server to come. It is picked below the ports the
    system hands out to client connections (from 32768 on Linux, from 49152 on macOS and
    Windows), so that the many clients of tests running beside it cannot take it first."""
    while True:
        port = random.randrange(20000, 32768)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:  # in use: try another
                continue
            return port


def port_taken(printed, port):
    """Whether a server that stopped as it started says, on one line, that the port it was
    given is in use.

    free_port() picks a port that is free at that moment, but checks and tests run side by
    side: another one's server may bind it before ours does. Whoever starts the server
    then tries another port, up to PORT_TRIES in all."""
    return any(TAKEN.search(line) and re.search(rf"\b{port}\b", line) for line in printed.splitlines())
