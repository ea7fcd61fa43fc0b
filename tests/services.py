"""Real Redis and nginx servers for the tests of many workers, each started on a
free port with files of its own, and the rule for a program that is missing."""

import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import redis

from waits import START_TIMEOUT
from workshop.stages import ROOT
from workshop.starting import free_port

NGINX_CONFIG = ROOT / "solution" / "nginx.conf"


def missing(message):
    """On a laptop, skip with one line saying what to install; in CI, where every
    test must run, fail."""
    if os.environ.get("CI"):
        pytest.fail(message + " In CI a missing one fails the run.")
    pytest.skip(message)


def find_program(name, how_to_install):
    # nginx lives in /usr/sbin, which is not on everyone's PATH.
    path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"]))
    if path is None:
        missing(f"No {name} for the tests of many workers: {how_to_install}.")
    return path


def wait_for(ready, what, process):
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start: {process.args}")
        time.sleep(0.05)


class RedisServer:
    """redis-server on a free port, keeping nothing on disk. It can be stopped and
    started again on the same port, as when Redis restarts."""

    def __init__(self, folder):
        self.program = find_program(
            "redis-server", "install Redis (apt-get install redis-server; on macOS, brew install redis)"
        )
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis.Redis(port=self.port)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.answers, "redis-server", self.process)
        return self

    def answers(self):
        try:
            return self.client.ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        self.process.kill()  # as when it crashes: no goodbye to its clients
        self.process.wait()
        self.client.connection_pool.disconnect()


class Nginx:
    """nginx in front of the given servers, with the sample configuration in
    solution/nginx.conf: only its port and its list of servers are changed."""

    def __init__(self, folder, backends):
        self.program = find_program("nginx", "install nginx (apt-get install nginx; on macOS, brew install nginx)")
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = folder / "access.log"  # a line for each request, as nginx logs them by default
        config = NGINX_CONFIG.read_text()
        config = re.sub(r"listen \d+;", f"listen 127.0.0.1:{self.port};", config)
        servers = "".join(f"server 127.0.0.1:{backend.port};\n    " for backend in backends)
        config = re.sub(r"(server 127\.0\.0\.1:\d+;\s*)+", servers, config)
        (folder / "cheeper.conf").write_text(config)
        (folder / "nginx.conf").write_text(self.main_config())
        self.process = None

    def main_config(self):
        # What /etc/nginx/nginx.conf holds, with every file in the test's folder.
        temporary = "".join(
            f"{kind}_temp_path {self.folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"daemon off;\nmaster_process off;\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.folder / 'error.log'};\nevents {{}}\n"
            f"http {{\naccess_log {self.access_log};\n{temporary}include {self.folder / 'cheeper.conf'};\n}}\n"
        )

    def start(self):
        self.process = subprocess.Popen(
            [
                self.program,
                "-p",
                str(self.folder),
                "-e",
                str(self.folder / "error.log"),
                "-c",
                str(self.folder / "nginx.conf"),
            ]
        )
        wait_for(self.listens, "nginx", self.process)
        return self

    def listens(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self):
        self.process.terminate()
        self.process.wait()
