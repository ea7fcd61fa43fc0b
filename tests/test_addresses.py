"""With HOST=0.0.0.0 (or :: for IPv6), the solution prints the addresses the room can
type, this computer's real ones on the network, and each one answers."""

import importlib.util
import ipaddress
import re
import socket
from urllib.parse import urlsplit

import pytest
import requests

from app_client import wait_until
from server_process import START_TIMEOUT, ServerProcess
from workshop.stages import ROOT

NONE_FOUND = "found no network address for the others to open"


def can_listen_on_ipv6():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::", 0))
            return True
    except OSError:
        return False


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",
        pytest.param("::", marks=pytest.mark.skipif(not can_listen_on_ipv6(), reason="this computer has no IPv6")),
    ],
)
def test_listening_on_every_address_prints_the_real_addresses_and_each_answers(host, tmp_path):
    """Each address printed for the others is one of this computer's on the network, and
    answers a GET: none is a placeholder, or this computer's name for itself."""
    server = ServerProcess(ROOT / "solution", tmp_path / "cheeps.db", env={"HOST": host})
    if host == "::":  # on Windows, :: takes IPv6 only
        server.url = f"http://[::1]:{server.port}"
    server.start()
    try:
        # It looks the addresses up once it listens: that may take a moment.
        assert wait_until(lambda: "Press Ctrl+C" in server.output(), START_TIMEOUT), server.output()
        printed = server.output()
        assert "<" not in printed, f"It printed a placeholder, not an address:\n{printed}"
        links = [link for link in re.findall(r"http://\S+/", printed) if "localhost" not in link]
        assert links or NONE_FOUND in printed, printed  # none only on a computer on no network at all
        session = requests.Session()
        session.trust_env = False  # straight to this computer: no proxy of the environment in between
        for link in links:
            assert not ipaddress.ip_address(urlsplit(link).hostname).is_loopback, (
                f"{link} is this computer's name for itself: nobody else can open it."
            )
            assert urlsplit(link).port == server.port, link
            assert session.get(link, timeout=10).status_code == 200, f"{link} does not answer."
    finally:
        server.kill()


def test_with_only_addresses_nobody_else_can_open_it_says_none_was_found(monkeypatch):
    """This computer's names for itself and link-local addresses are left out; with
    nothing left, a sentence says so, with no address to copy."""
    spec = importlib.util.spec_from_file_location("addresses", ROOT / "solution" / "addresses.py")
    addresses = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(addresses)
    monkeypatch.setattr(addresses, "sending_address", lambda family: None)  # no way out
    itself = ["127.0.1.1", "169.254.7.1", "::1", "fe80::1%eth0"]  # loopback and link-local
    monkeypatch.setattr(addresses, "named_addresses", lambda family: itself)
    for host in ["0.0.0.0", "::"]:
        said = addresses.for_the_room(host, 5000)
        assert NONE_FOUND in said and "http" not in said, said
