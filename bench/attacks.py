"""One laptop against the room: what a bystander feels while it attacks, and what
the server's memory does. `make bench` runs it; docs/performance.md shows the results.

For each attack, against a fresh server that may open 1,024 files (a usual Linux
default), in the same run:
- a bystander on 127.0.0.1 sends a cheep 4 times a second and times each until it
  comes back, and a newcomer loads the page twice a second on a new connection:
  first for a few seconds with no attack, then for as long during the attack;
- the attacker, on 127.0.0.2 (another person, to the server), in a process of
  its own, as fast as it can;
- the server's memory (RSS) before, at its highest during, and a few seconds after;
  its CPU during; and what the attack got: cheeps stored, connections held.

Linux only: it needs a second loopback address. --app runs it against another
copy of the app (an older solution, say), which may know none of these limits.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import suppress
from pathlib import Path

import psutil
import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

import load  # noqa: E402
from app_client import cheeps_since  # noqa: E402
from fanout import server_cpu, server_memory  # noqa: E402
from server_process import ServerProcess  # noqa: E402

ATTACKER = "127.0.0.2"
CALM_SECONDS = 4  # the bystander's figures without the attack...
ATTACK_SECONDS = 6  # ...and with it, after its first second
SETTLE_SECONDS = 3  # after the attack, before its memory is read again
TIMED_OUT = 10  # seconds a bystander waits for a cheep or a page before it counts as lost
SETTINGS = {"CHEEPER_PEOPLE_PER_ADDRESS": "1", "CHEEPER_PING_SECONDS": "3600"}


def masked(opcode, payload=b"", fin=True):
    """A frame from a client. A client must mask; a mask of zeros leaves the bytes as they are."""
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    size = bytes([0x80 | length]) if length < 126 else bytes([0xFE]) + length.to_bytes(2, "big")
    return bytes([first]) + size + b"\0\0\0\0" + payload


def cheep_frame(text="flood"):
    return masked(0x1, json.dumps({"type": "cheep", "name": "Attacker", "cheep": text}).encode())


def connection_from_attacker(port):
    connection = socket.socket()
    connection.bind((ATTACKER, 0))
    connection.settimeout(1)  # a server that accepts no more leaves a connect waiting
    connection.connect(("127.0.0.1", port))
    connection.settimeout(None)
    return connection


def read_everything(connection):
    with suppress(OSError):
        while connection.recv(262144):
            pass


# The attacks. Each runs until `stop` is set, and returns what it counted.


def streaming(start, frame):
    """One socket after another, each sending `frame` without pause until the server closes it."""

    def attack(port, stop):
        counts = Counter()
        blob = frame * 1000
        while not stop.is_set():
            try:
                client, _ = load.open_client(port, source=ATTACKER)
            except (ConnectionError, OSError):
                counts["handshakes refused"] += 1
                time.sleep(0.01)
                continue
            counts["sockets opened"] += 1
            threading.Thread(target=read_everything, args=(client,), daemon=True).start()
            with suppress(OSError):
                client.sendall(start)
                while not stop.is_set():
                    client.sendall(blob)
            client.close()
        return counts

    return attack


def reconnecting(port, stop):
    """Open a socket, send 10 cheeps, close; again and again: a full allowance each time?"""
    counts = Counter()
    while not stop.is_set():
        with suppress(ConnectionError, OSError):
            client, _ = load.open_client(port, source=ATTACKER)
            client.sendall(cheep_frame() * 10)
            client.close()
            counts["sockets opened"] += 1
    return counts


def many_sockets(port, stop):
    """25 sockets from one address, each sending cheeps and reading what comes back."""
    counts = Counter()

    def one(client):
        threading.Thread(target=read_everything, args=(client,), daemon=True).start()
        with suppress(OSError):
            while not stop.is_set():
                client.sendall(cheep_frame())
                time.sleep(0.001)

    threads = []
    for _ in range(25):
        try:
            client, _ = load.open_client(port, source=ATTACKER)
        except (ConnectionError, OSError):
            counts["handshakes refused"] += 1
            continue
        counts["sockets opened"] += 1
        threads.append(threading.Thread(target=one, args=(client,), daemon=True))
        threads[-1].start()
    for thread in threads:
        thread.join()
    return counts


def posting(port, stop):
    """6 connections posting cheeps as fast as they are answered."""
    counts = Counter()

    def one():
        connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(ATTACKER, 0), timeout=10)
        body = json.dumps({"name": "Attacker", "cheep": "posted"})
        while not stop.is_set():
            try:
                connection.request("POST", "/api/cheep", body, {"Content-Type": "application/json"})
                answer = connection.getresponse()
                answer.read()
                counts[f"answered {answer.status}"] += 1
            except (OSError, http.client.HTTPException):
                connection.close()

    threads = [threading.Thread(target=one, daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def holding(count, at_once=b"", trickle=b""):
    """`count` connections that send `at_once`, as fast as the server reads it, then
    one byte of `trickle` a second each, or nothing. One the server answers or
    closes is opened again."""

    def attack(port, stop):
        counts = Counter()
        unsent = {}  # connection -> what it still sends at once
        dripped = {}  # connection -> how many bytes of `trickle` it has sent
        next_drip = time.monotonic()
        while not stop.is_set():
            while len(unsent) < count and not stop.is_set():
                try:
                    connection = connection_from_attacker(port)
                except OSError:
                    counts["connections that failed to open"] += 1
                    break
                connection.setblocking(False)
                unsent[connection], dripped[connection] = at_once, 0
                counts["connections opened"] += 1
            drip = time.monotonic() >= next_drip  # a byte from each, once a second
            if drip:
                next_drip += 1
            for connection in list(unsent):
                try:
                    with suppress(BlockingIOError):
                        answer = connection.recv(65536)
                        status = answer.split(b"\r\n")[0].decode(errors="replace")
                        counts[f"answered {status[9:12]}" if answer else "closed unanswered"] += 1
                        raise ConnectionError
                    if unsent[connection]:
                        with suppress(BlockingIOError):
                            unsent[connection] = unsent[connection][connection.send(unsent[connection][:262144]) :]
                    elif drip and dripped[connection] < len(trickle):
                        connection.send(trickle[dripped[connection] : dripped[connection] + 1])
                        dripped[connection] += 1
                except OSError:
                    connection.close()
                    del unsent[connection], dripped[connection]
            stop.wait(0.05)
        return counts

    return attack


def pipelining(port, stop):
    """One connection sending request after request without waiting for the answers."""
    counts = Counter()
    request = b"GET /api/cheeps?since=999999999 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connection_from_attacker(port) as connection:
        threading.Thread(target=read_everything, args=(connection,), daemon=True).start()
        with suppress(OSError):
            while not stop.is_set():
                connection.sendall(request * 1000)
                counts["requests sent"] += 1000
    return counts


HEAD = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
ATTACKS = {
    "unsolicited pongs, without pause": streaming(b"", masked(0xA)),
    "empty pieces of one message, without pause": streaming(masked(0x1, b"[", fin=False), masked(0x0, fin=False)),
    "cheeps past the limit, without pause": streaming(b"", cheep_frame()),
    "open a socket, send 10 cheeps, close; again": reconnecting,
    "25 sockets sending cheeps": many_sockets,
    "POST /api/cheep from 6 connections": posting,
    "1,500 connections that send nothing": holding(1500),
    "300 requests sent a byte a second": holding(300, trickle=HEAD + b"X-Slow: " + b"a" * 100),
    "100 unfinished requests, 98 header lines of 64 KB each": holding(
        100, at_once=HEAD + b"".join(b"X-Fat-%d: %s\r\n" % (n, b"a" * 65000) for n in range(98))
    ),
    "request after request on one connection, not waiting": pipelining,
}


def attacker(name, port, stop, results):
    results.put(dict(ATTACKS[name](port, stop)))


class Bystander:
    """Another person: cheeps and page loads, each timed, until stopped."""

    def __init__(self, server):
        self.server = server
        self.round_trips, self.page_loads = [], []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.cheep), threading.Thread(target=self.load_pages)]
        for thread in self.threads:
            thread.start()

    def cheep(self):
        client = None
        while not self.stop.is_set():
            key, started = uuid.uuid4().hex, time.perf_counter()
            try:
                if client is None:  # the first time, and after a lost connection: opening it counts in the time
                    client = websocket.create_connection(
                        self.server.url.replace("http", "ws") + "/ws", timeout=TIMED_OUT
                    )
                client.send(json.dumps({"type": "cheep", "name": "Bystander", "cheep": "still here?", "key": key}))
                while (answer := json.loads(client.recv())).get("key") != key:
                    pass
                stored = answer["type"] == "cheep"  # not refused: "storage away", say
                self.round_trips.append(time.perf_counter() - started if stored else float("inf"))
            except (websocket.WebSocketException, OSError):
                self.round_trips.append(float("inf"))
                client = None
            self.stop.wait(max(0, 0.25 - (time.perf_counter() - started)))

    def load_pages(self):
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                requests.get(self.server.url + "/", timeout=TIMED_OUT).raise_for_status()
                self.page_loads.append(time.perf_counter() - started)
            except requests.RequestException:
                self.page_loads.append(float("inf"))
            self.stop.wait(max(0, 0.5 - (time.perf_counter() - started)))

    def figures(self):
        """Stop; (round trips, page loads) measured."""
        self.stop.set()
        for thread in self.threads:
            thread.join()
        return self.round_trips, self.page_loads


def percentiles(values):
    """'p50 / p95' in ms, and how many were lost: never came back, or were refused."""
    if not values:
        return "lost"  # not one came back in the whole time
    ordered = sorted(values)
    p50, p95 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    lost = sum(value == float("inf") for value in values)
    text = " / ".join("lost" if value == float("inf") else f"{value * 1000:.1f}" for value in (p50, p95))
    return text + (f" ({lost} of {len(values)} lost)" if lost else "")


def measure(name, app, scratch):
    server = ServerProcess(
        app, scratch / f"{len(os.listdir(scratch))}.db", env=SETTINGS, open_files=(1024, 1024)
    ).start()
    try:
        highest = [server_memory(server)]
        sampling = threading.Event()

        def sample():
            while not sampling.wait(0.1):
                highest.append(server_memory(server))

        time.sleep(1)
        memory_before = server_memory(server)
        calm = Bystander(server)
        time.sleep(CALM_SECONDS)
        calm_trips, calm_loads = calm.figures()

        stop, results = multiprocessing.Event(), multiprocessing.Queue()
        process = multiprocessing.Process(target=attacker, args=(name, server.port, stop, results))
        process.start()
        time.sleep(1)  # under way
        sampler = threading.Thread(target=sample)
        sampler.start()
        cpu_before, started = server_cpu(server), time.monotonic()
        attacked = Bystander(server)
        time.sleep(ATTACK_SECONDS)
        held = sum(
            1 for c in psutil.Process(server.process.pid).net_connections("tcp") if c.raddr and c.raddr.ip == ATTACKER
        )
        attacked_trips, attacked_loads = attacked.figures()
        busy = (server_cpu(server) - cpu_before) / (time.monotonic() - started)
        stop.set()
        counts = results.get(timeout=60)
        process.join(timeout=10)
        sampling.set()
        sampler.join()
        time.sleep(SETTLE_SECONDS)
        stored = sum(1 for cheep in cheeps_since(server, 0) if cheep["name"] == "Attacker")
        return {
            "attack": name,
            "calm_trips": percentiles(calm_trips),
            "attacked_trips": percentiles(attacked_trips),
            "calm_loads": percentiles(calm_loads),
            "attacked_loads": percentiles(attacked_loads),
            "memory": f"{memory_before / 2**20:.0f} / {max(highest) / 2**20:.0f} / {server_memory(server) / 2**20:.0f}",
            "cpu": f"{busy * 100:.0f}%",
            "got": ", ".join(
                [f"{count:,} {what}" for what, count in sorted(counts.items())]
                + [f"{held} connections held at the end", f"{stored} cheeps stored"]
            ),
        }
    finally:
        server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", type=Path, default=ROOT / "solution", help="the app folder to attack")
    parser.add_argument("--attacks", nargs="+", default=list(ATTACKS), choices=list(ATTACKS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "attacks.md")
    options = parser.parse_args()
    try:
        socket.socket().bind((ATTACKER, 0))
    except OSError:
        sys.exit(f"The attacks come from {ATTACKER}, which only Linux has on its own.")
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the attacker's thousand connections
    scratch = Path(tempfile.mkdtemp())
    lines = [
        f"The app: {options.app.relative_to(ROOT) if options.app.is_relative_to(ROOT) else options.app}; "
        f"{CALM_SECONDS} s without the attack, then {ATTACK_SECONDS} s with it, for each row.",
        "",
        "| attack | bystander's cheep, ms, p50 / p95: calm | during | newcomer's page, ms, p50 / p95: calm | during "
        "| server RSS, MiB: before / highest / after | server CPU during | what the attacker got |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in options.attacks:
        f = measure(name, options.app, scratch)
        lines.append(
            f"| {f['attack']} | {f['calm_trips']} | {f['attacked_trips']} | {f['calm_loads']} | {f['attacked_loads']} "
            f"| {f['memory']} | {f['cpu']} | {f['got']} |"
        )
        print(lines[-1], flush=True)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text("\n".join(lines) + "\n")
    print(f"Written: {options.out}")


if __name__ == "__main__":
    main()
