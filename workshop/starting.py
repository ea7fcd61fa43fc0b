"""Before any promise: does the app's server start at all?

A server that cannot start (a syntax error, a module that will not import, a
crash as it starts) breaks every promise the same way. So the check starts it
once first, and when it stops as it starts, says why in one line, quoting the
error and the line of your code it came from, and runs nothing else.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import psutil

from workshop.stages import ROOT

START_SECONDS = 20  # a cold laptop imports gevent and Flask slowly
# The last line of a traceback: the error and what it says ("NameError: name 'x' is not defined").
ERROR = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))(?::\s*(.*))?$", re.M)
# A line of a traceback that names a place in a file (a SyntaxError's has no function).
PLACE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>\S+))?', re.M)


def why_it_does_not_start(app):
    """None when the app's server.py starts and listens; otherwise one sentence saying why not."""
    with tempfile.TemporaryDirectory() as scratch:
        environment = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "CHEEPER_DB": str(Path(scratch) / "cheeps.db"),
            "PYTHONUNBUFFERED": "1",
        }
        server = subprocess.Popen(
            [sys.executable, str(Path(app).resolve() / "server.py")],
            cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_SECONDS
            while time.monotonic() < deadline:
                if server.poll() is not None:
                    return stopped(app, server.returncode, server.stdout.read().decode("utf-8", "replace"))
                if listens(server):
                    return None
                time.sleep(0.05)
            return None  # still starting: the promises will tell what they find
        finally:
            server.kill()
            server.wait()
            server.stdout.close()


def listens(server):
    """Whether the server listens for connections, on any port: one on the wrong port still started."""
    with suppress(psutil.Error):
        return any(connection.status == psutil.CONN_LISTEN for connection in psutil.Process(server.pid).net_connections())
    return False


def stopped(app, code, printed):
    """What to say of a server that stopped as it started, from what it printed."""
    errors = ERROR.findall(printed)
    if not errors:
        last = next((line.strip() for line in reversed(printed.splitlines()) if line.strip()), "")
        if code == 0 and not last:
            return (f"Your server does not start: {app}/server.py ended at once, without an error, and never "
                    "listened for requests. Its last lines must start the server and keep it running.")
        return f"Your server does not start: it stopped (exit code {code}), saying: {last or 'nothing'}"
    name, says = errors[-1]
    error = f"{name}: {says}" if says else name
    place = your_place(app, printed)
    return f"Your server does not start: {error}" + (f" ({place})." if place else ".")


def your_place(app, printed):
    """The last place in the traceback that is in the app's own files: "workspace/server.py, line 87, in ws"."""
    folder = Path(app).resolve()
    for place in reversed(list(PLACE.finditer(printed))):
        path = Path(place["path"]).resolve()
        if path.is_relative_to(folder):
            words = f"{Path(app).name}/{path.relative_to(folder).as_posix()}, line {place['line']}"
            return words + (f", in {place['function']}" if place["function"] else "")
    return None


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
