"""Every server that the tests and the check start gets a port of its own, though
many start side by side. free_port() picks a port that is free at that moment; a
server started beside may bind it before ours does. Ours then stops, saying the
port is in use, and whoever started it tries another port."""

import shutil
import socket
from types import SimpleNamespace

import pytest

from server_process import ServerProcess
from services import Nginx, RedisServer, listens_in_time
from workshop.stages import ROOT
from workshop.starting import free_port, port_taken, why_it_does_not_start

# Put into a copy of step 1's server.py before it starts serving: the first time it
# starts, its port is taken just before it binds it, as when a server beside takes it.
TAKEN_AT_FIRST = """
import socket
from pathlib import Path

first_port = Path(__file__).with_name("first_port")
if not first_port.exists():
    first_port.write_text(str(PORT))
    taken_first = socket.socket()
    taken_first.bind((HOST, PORT))
    taken_first.listen()

"""


@pytest.fixture
def server_whose_first_port_is_taken(tmp_path):
    """A copy of step 1 whose port is taken the first time it starts, just before it binds it."""
    app = tmp_path / "app"
    shutil.copytree(ROOT / "step1_server", app)
    server = app / "server.py"
    server.write_text(
        server.read_text().replace('\nif __name__ == "__main__":', TAKEN_AT_FIRST + 'if __name__ == "__main__":')
    )
    return app


def test_the_check_starts_the_server_on_another_port_when_its_first_was_taken(server_whose_first_port_is_taken):
    """The check's first start says nothing is wrong with a server whose port was taken before it bound it."""
    app = server_whose_first_port_is_taken
    assert why_it_does_not_start(app) is None
    assert (app / "first_port").exists(), "The server never met a taken port: this test tests nothing."


def test_a_tests_server_moves_to_another_port_when_its_first_was_taken(server_whose_first_port_is_taken, tmp_path):
    """A test's server whose port was taken before it bound it starts on another one."""
    server = ServerProcess(server_whose_first_port_is_taken, tmp_path / "cheeps.db").start()
    try:
        assert server.port != int((server_whose_first_port_is_taken / "first_port").read_text())
        assert server.listens()
    finally:
        server.kill()


def test_a_port_given_by_the_learner_is_never_taken_for_one_the_check_picked():
    """Only the port the server was given, said to be in use, counts as taken: not another one."""
    said = "Cannot listen on 127.0.0.1:5000: Address already in use."
    assert port_taken(said, 5000)
    assert not port_taken(said, 25000)
    assert not port_taken("Cannot listen on 127.0.0.1:25000: Permission denied.", 25000)


@pytest.mark.parametrize("kind", [RedisServer, Nginx])
def test_redis_and_nginx_say_when_their_port_was_taken_first(kind, tmp_path):
    """redis-server and nginx started on a port already taken are seen to stop for that reason."""
    service = (
        RedisServer(tmp_path) if kind is RedisServer else Nginx(tmp_path, backends=[SimpleNamespace(port=free_port())])
    )
    with socket.socket() as taken:
        port = free_port()
        taken.bind(("127.0.0.1", port))
        taken.listen()
        process = service.launch(port)
        try:
            assert listens_in_time(process, port, kind.__name__, service.log) is False
        finally:
            process.kill()
            process.wait()
