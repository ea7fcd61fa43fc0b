"""The addresses the others in the room can type to reach this computer, printed at
start when the server listens on every address (HOST=0.0.0.0, or :: for IPv6).

Found with the standard library only: the address this computer sends from, and
every address its own name stands for.
"""

import ipaddress
import socket

# Addresses kept for examples in documentation, which no computer has. Asking how to
# reach one makes the system choose the way out it takes to the internet.
SOMEWHERE_ELSE = {socket.AF_INET: "192.0.2.1", socket.AF_INET6: "2001:db8::1"}


def sending_address(family):
    """The address this computer sends from. A UDP socket "connected" somewhere
    only chooses its way out and its own address: it sends nothing."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((SOMEWHERE_ELSE[family], 80))
            return probe.getsockname()[0]
    except OSError:  # no network, or none of this family
        return None


def named_addresses(family):
    """The addresses of this family that the computer's own name stands for."""
    try:
        found = socket.getaddrinfo(socket.gethostname(), None, family, socket.SOCK_STREAM)
    except OSError:  # the name stands for nothing
        return []
    return [address[0] for *_, address in found]


def reachable(address):
    """Whether another computer can type the address: not this computer's name for
    itself (127.0.0.1, ::1), nor a link-local one, which a computer takes when no
    network gave it an address (169.254.x.x), or which a browser cannot open (fe80::)."""
    address = ipaddress.ip_address(address.partition("%")[0])  # fe80::1%eth0: the part before %
    return not (address.is_loopback or address.is_link_local or address.is_unspecified)


def ipv6_takes_ipv4_too():
    """Whether a socket listening on :: also takes IPv4 connections. The server keeps the
    system's choice: yes on Linux and macOS, no on Windows."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            return not probe.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    except (OSError, AttributeError):  # no IPv6 at all
        return False


def network_addresses(host):
    """This computer's addresses that a server listening on `host` (0.0.0.0 or ::)
    answers at. IPv4 ones first, the shorter to type; of each kind, first the one it
    sends from, the likeliest to be on the room's network."""
    families = [socket.AF_INET]
    if host == "::":
        families = (families if ipv6_takes_ipv4_too() else []) + [socket.AF_INET6]
    found = []
    for family in families:
        for address in [sending_address(family), *named_addresses(family)]:
            if address and reachable(address) and address not in found:
                found.append(address)
    return found


def url(address, port):
    return f"http://[{address}]:{port}/" if ":" in address else f"http://{address}:{port}/"


def for_the_room(host, port):
    """What the others type, said after the line for this computer."""
    links = [url(address, port) for address in network_addresses(host)]
    if not links:
        return (
            "but it found no network address for the others to open: is this computer\nconnected to the room's network?"
        )
    if len(links) == 1:
        return f"and {links[0]} from the others."
    return "and from the others, whichever of these their network reaches:\n" + "\n".join(f"  {link}" for link in links)
