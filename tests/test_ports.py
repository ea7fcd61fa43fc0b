"""Every server that the tests and the check start gets a port of its own, though
many start side by side. free_port() picks a port that is free at that moment; a
server started beside may bind it before ours does. Ours then stops, saying the
port is in use, and whoever started it tries another port."""

import socket
from types import SimpleNamespace

import pytest

import server_process
import services
import workshop.starting
from server_process import ServerProcess
from services import Nginx, RedisServer
from workshop.stages import ROOT
from workshop.starting import free_port, port_taken, why_it_does_not_start


@pytest.fixture
def first_port_taken(monkeypatch):
    """free_port() hands out first a port that this test holds, as when a server beside
    binds the port it picked before ours does; then free ports. Yields the ports handed out."""
    handed_out = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()

        def taken_then_free():
            handed_out.append(free_port() if handed_out else taken.getsockname()[1])
            return handed_out[-1]

        for module in (workshop.starting, server_process, services):
            monkeypatch.setattr(module, "free_port", taken_then_free)
        yield handed_out


def test_the_check_starts_the_server_on_another_port_when_its_first_was_taken(first_port_taken):
    """The check's first start says nothing is wrong with a server whose port was taken before it bound it."""
    assert why_it_does_not_start(ROOT / "step1_server") is None
    assert len(first_port_taken) == 2, f"Ports tried: {first_port_taken}"


def test_a_tests_server_moves_to_another_port_when_its_first_was_taken(first_port_taken, tmp_path):
    """A test's server whose port was taken before it bound it starts on another one."""
    server = ServerProcess(ROOT / "step1_server", tmp_path / "cheeps.db").start()
    try:
        assert first_port_taken[0] != server.port == first_port_taken[-1]
        assert server.listens()
    finally:
        server.kill()


@pytest.mark.many_workers
@pytest.mark.parametrize(
    "start",
    [
        pytest.param(lambda folder: RedisServer(folder).start(), id="redis-server"),
        pytest.param(lambda folder: Nginx(folder, backends=[SimpleNamespace(port=free_port())]).start(), id="nginx"),
    ],
)
def test_redis_and_nginx_move_to_another_port_when_their_first_was_taken(start, first_port_taken, tmp_path):
    """redis-server and nginx whose port was taken before they bound it start on another one."""
    service = start(tmp_path)
    try:
        assert first_port_taken[0] != service.port == first_port_taken[-1]
    finally:
        service.process.kill()
        service.process.wait()


def test_only_the_port_it_was_given_said_to_be_in_use_counts_as_taken():
    """A server's own fixed port in use, or another error on the given port, is the learner's to hear."""
    said = (
        "Cannot listen on 127.0.0.1:{port}: {why}.\n"
        "If port {port} is in use, pick another one with the PORT environment variable,\n"
    )
    assert port_taken(said.format(port=25000, why="Address already in use: ('127.0.0.1', 25000)"), 25000)
    assert not port_taken(said.format(port=5000, why="Address already in use"), 25000)
    assert not port_taken(said.format(port=25000, why="Permission denied"), 25000)
    assert port_taken("Address already in use\nPort 25000 is in use by another program.", 25000)  # step 0's Flask
