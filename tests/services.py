"""Real Redis and nginx servers for the tests of many workers, each started on a
free port with files of its own, and the rule for a program that is missing."""

import os
import re
import shutil
import subprocess
import time

import pytest
import redis

from waits import START_TIMEOUT
from workshop.stages import ROOT
from workshop.starting import PORT_TRIES, free_port, listening_ports, port_taken

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


def start_on_a_free_port(launch, what, log):
    """launch(port) starts a program that listens on that port and writes its errors to
    `log`. Start it on a free port, trying another when that one was taken first (see
    port_taken), and return the port and the process."""
    for _ in range(PORT_TRIES):
        port = free_port()
        process = launch(port)
        if listens_in_time(process, port, what, log):
            return port, process
    raise AssertionError(f"{what} did not start: each of {PORT_TRIES} free ports was taken before it could listen.")


def listens_in_time(process, port, what, log):
    """Wait until the program's own process listens on `port` (another's may answer there
    too). False when it stopped because the port was taken; an error when it stopped for
    any other reason, or did not listen in time."""
    deadline = time.monotonic() + START_TIMEOUT
    while port not in listening_ports(process):
        if process.poll() is not None:
            printed = log.read_text(errors="replace") if log.exists() else ""
            if port_taken(printed, port):
                return False
            raise AssertionError(f"{what} stopped as it started: {process.args}\n{printed}")
        if time.monotonic() > deadline:
            process.kill()  # nobody else can: its caller never gets it
            raise AssertionError(f"{what} did not listen on port {port} within {START_TIMEOUT} s: {process.args}")
        time.sleep(0.05)
    return True


class RedisServer:
    """redis-server on a free port, keeping nothing on disk. It can be stopped and
    started again on the same port, as when Redis restarts."""

    def __init__(self, folder):
        self.program = find_program(
            "redis-server", "install Redis (apt-get install redis-server; on macOS, brew install redis)"
        )
        self.folder = folder
        self.log = folder / "redis.log"
        self.port = self.url = self.client = None  # set as it first starts, on the port it finds free
        self.process = None

    def start(self):
        if self.port is None:
            self.port, self.process = start_on_a_free_port(self.launch, "redis-server", self.log)
            self.url = f"redis://127.0.0.1:{self.port}/0"
            self.client = redis.Redis(port=self.port)
        else:  # started again, on its port: the workers come back to it
            self.process = self.launch(self.port)
            if not listens_in_time(self.process, self.port, "redis-server", self.log):
                raise AssertionError(
                    f"redis-server could not start again on port {self.port}: "
                    "another program took that port while Redis was stopped."
                )
        return self

    def launch(self, port):
        return subprocess.Popen(
            [self.program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--logfile", str(self.log)],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )

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
        self.backends = backends
        self.access_log = folder / "access.log"  # a line for each request, as nginx logs them by default
        self.log = folder / "error.log"  # where nginx says what went wrong
        self.port = self.url = None  # set as it starts, on the port it finds free
        self.process = None

    def start(self):
        self.port, self.process = start_on_a_free_port(self.launch, "nginx", self.log)
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def launch(self, port):
        config = NGINX_CONFIG.read_text()
        config = re.sub(r"listen \d+;", f"listen 127.0.0.1:{port};", config)
        servers = "".join(f"server 127.0.0.1:{backend.port};\n    " for backend in self.backends)
        config = re.sub(r"(server 127\.0\.0\.1:\d+;\s*)+", servers, config)
        (self.folder / "cheeper.conf").write_text(config)
        (self.folder / "nginx.conf").write_text(self.main_config())
        return subprocess.Popen(
            [self.program, "-p", str(self.folder), "-e", str(self.log), "-c", str(self.folder / "nginx.conf")]
        )

    def main_config(self):
        # What /etc/nginx/nginx.conf holds, with every file in the test's folder.
        temporary = "".join(
            f"{kind}_temp_path {self.folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"daemon off;\nmaster_process off;\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.log};\nevents {{}}\n"
            f"http {{\naccess_log {self.access_log};\n{temporary}include {self.folder / 'cheeper.conf'};\n}}\n"
        )

    def stop(self):
        self.process.terminate()
        self.process.wait()
