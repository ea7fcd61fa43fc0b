"""The fan-out benchmark: how fast a cheep reaches N connected pages, and what
it costs the server. `make bench` runs it; docs/performance.md shows the results.

For each server and each N, in the same run:
- a fresh server process on a free port;
- N clients, spread over several generator processes (bench/load.py), and the
  time it took to connect them all;
- the server's memory per idle connection (its RSS before and after);
- rounds: one cheep sent over a WebSocket, timed until every client has it,
  and the server's own CPU time for all the rounds, per delivered message;
- the same with one stalled client, which connected first and never reads;
  after the rounds, a burst of big cheeps: did every other client get them
  all, and how much output does the server hold for the stalled one (the
  Send-Q of its connection, from `ss`)?

The servers: the solution; step 1, whose broadcast is the lesson's one loop;
and the websockets library's own broadcast(), in asyncio.
"""

import argparse
import json
import multiprocessing
import multiprocessing.connection
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

import load  # noqa: E402
from server_process import ServerProcess  # noqa: E402

SERVERS = {
    "solution": ROOT / "solution",
    "step 1 (one loop)": ROOT / "step1_server",
    "websockets library": ROOT / "bench" / "websockets_reference",
}
SETTINGS = {  # no limits for one address (every client is 127.0.0.1), no pings
    "CHEEPER_PEOPLE_PER_ADDRESS": "1000000",
    "CHEEPER_PING_SECONDS": "3600",
}
ROUND_GAP = 0.21  # seconds between rounds: a socket may send 20 frames a second
BURST = 300  # big cheeps after the rounds: more than a stalled client's buffers and outbox hold
BIG_CHEEP = "🐦" * 76  # 912 bytes of JSON
WAIT = 30  # seconds a round may take before it counts as stuck


class Sender:
    """The client that sends the cheeps. It reads what it gets, like a page."""

    def __init__(self, port):
        self.socket, _ = load.open_client(port)
        threading.Thread(target=self.drain, daemon=True).start()

    def drain(self):
        while self.socket.recv(262144):
            pass

    def send(self, text):
        # With a key, as the solution's page sends it: the broadcast carries it too.
        # (Step 1 and the websockets library ignore it.)
        cheep = {"type": "cheep", "name": "bench", "cheep": text, "key": uuid.uuid4().hex}
        payload = json.dumps(cheep).encode()
        mask = b"\x00\x00\x00\x00"  # a client must mask; a mask of zeros leaves the bytes as they are
        length = len(payload)
        header = bytes([0x81, 0x80 | length]) if length < 126 else bytes([0x81, 0xFE]) + length.to_bytes(2, "big")
        self.socket.sendall(header + mask + payload)


class Generators:
    """Clients in several processes, and what they report."""

    def __init__(self, port, clients, processes):
        self.pipes = []
        self.processes = []
        shares = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
        for share in shares:
            mine, theirs = multiprocessing.Pipe()
            process = multiprocessing.Process(target=load.run, args=(port, share, theirs), daemon=True)
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)
        self.connect_seconds = max(self.expect(pipe, "connected")[1] for pipe in self.pipes)
        self.done = {}  # message number -> [times each process finished it]

    def expect(self, pipe, kind):
        message = pipe.recv()
        if message[0] != kind:
            raise RuntimeError(f"A generator said {message!r}, not {kind!r}.")
        return message

    def wait_for(self, number, seconds=WAIT):
        """The moment the last client had message `number`, or None if it took too long."""
        deadline = time.monotonic() + seconds
        while len(self.done.get(number, [])) < len(self.pipes):
            ready = multiprocessing.connection.wait(self.pipes, timeout=max(0, deadline - time.monotonic()))
            if not ready:
                return None
            for pipe in ready:
                message = pipe.recv()
                if message[0] == "done":
                    self.done.setdefault(message[1], []).append(message[2])
                elif message[0] == "closed":
                    raise RuntimeError("The server closed a healthy client's connection.")
        return max(self.done[number])

    def cpu_seconds(self):
        total = 0
        for pipe in self.pipes:
            pipe.send("cpu")
            while (message := pipe.recv())[0] != "cpu":
                if message[0] == "done":
                    self.done.setdefault(message[1], []).append(message[2])
            total += message[1]
        return total

    def stop(self):
        for process in self.processes:
            process.kill()


def server_cpu(server):
    """Seconds of CPU the server has used. Linux counts it to the nanosecond in
    schedstat; psutil's user and system times come in 10 ms steps."""
    tasks = Path(f"/proc/{server.process.pid}/task")
    if tasks.is_dir():
        return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks.iterdir()) / 1e9
    times = psutil.Process(server.process.pid).cpu_times()
    return times.user + times.system


def server_memory(server):
    return psutil.Process(server.process.pid).memory_info().rss


def send_queue(server, client):
    """What the server's end of a client's connection holds, waiting to be sent:
    "300,311 bytes", or "dropped" and what is left, once the server let go of it."""
    port = client.getsockname()[1]
    fields = subprocess.run(
        ["ss", "-tnH", f"( sport = :{server.port} and dport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not fields:
        return "dropped, nothing left"
    state, queued = fields[0], int(fields[2])
    return f"{queued:,} bytes" if state == "ESTAB" else f"dropped, {queued:,} bytes left ({state})"


def burst(server, name, sender, count):
    """Send `count` big cheeps at once: over HTTP to the Flask servers, which allow
    it, and over the socket to the websockets one, which has no HTTP side."""
    with requests.Session() as session:
        for _ in range(count):
            if "websockets" in name:
                sender.send(BIG_CHEEP)
            else:
                session.post(
                    server.url + "/api/cheep", data={"name": "bench", "cheep": BIG_CHEEP}, allow_redirects=False
                )


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure(name, folder, clients, rounds, processes, stalled, scratch):
    """One server, N clients, the rounds; a dict of figures."""
    server = ServerProcess(folder, scratch / f"{name[:4]}-{clients}-{stalled}.db", env=SETTINGS).start()
    try:
        sender = Sender(server.port)
        slow = load.open_client(server.port, receive_buffer=4096)[0] if stalled else None
        time.sleep(0.5)
        memory_before = server_memory(server)
        generators = Generators(server.port, clients, processes)
        time.sleep(1)  # let the server settle
        memory_per_connection = (server_memory(server) - memory_before) / clients
        cpu_before, generator_cpu_before = server_cpu(server), generators.cpu_seconds()
        latencies = []
        for n in range(1, rounds + 1):
            started = time.perf_counter()
            sender.send(f"round {n}")
            finished = generators.wait_for(n)
            if finished is None:
                latencies.append(float("inf"))
                break
            latencies.append(finished - started)
            time.sleep(ROUND_GAP)
        cpu = server_cpu(server) - cpu_before
        generator_cpu = generators.cpu_seconds() - generator_cpu_before
        delivered = len(latencies) * (clients + 1 + (1 if stalled else 0))
        figures = {
            "server": name,
            "clients": clients,
            "stalled": stalled,
            "connect_rate": clients / generators.connect_seconds,
            "memory_kib": memory_per_connection / 1024,
            "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000,
            "max_ms": max(latencies) * 1000,
            "cpu_us": cpu / delivered * 1e6,
            "generator_cpu_us": generator_cpu / delivered * 1e6,
        }
        if stalled:
            burst(server, name, sender, BURST)
            try:
                figures["burst"] = "all had it" if generators.wait_for(rounds + BURST, seconds=300) else "too slow"
            except RuntimeError:
                figures["burst"] = "some were dropped"
            figures["stalled_send_queue"] = send_queue(server, slow)
        generators.stop()
        return figures
    finally:
        server.kill()


def most_connections(clients, processes, scratch):
    """Connect `clients` clients to the solution; a cheep must reach them all."""
    server = ServerProcess(SERVERS["solution"], scratch / "most.db", env=SETTINGS).start()
    try:
        generators = Generators(server.port, clients, processes)
        sender = Sender(server.port)
        started = time.perf_counter()
        sender.send("to everyone")
        finished = generators.wait_for(1, seconds=120)
        connected = len(psutil.Process(server.process.pid).net_connections("tcp")) - 1  # its listening socket
        generators.stop()
        return connected, (finished - started) if finished else None, server_memory(server)
    finally:
        server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--generators", type=int, default=2, help="load generator processes")
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--most", type=int, default=10_000, help="connections for the one-process check (0: skip)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where the table goes")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "images" / "fanout.png")
    options = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets, here and in the servers
    scratch = Path(tempfile.mkdtemp())
    # A first run warms the machine up (CPU clocks, caches): without it, the
    # first row measured came out slower than the same one measured later.
    measure(
        options.servers[0], SERVERS[options.servers[0]], min(options.clients), 5, options.generators, False, scratch
    )
    results = []
    for clients in options.clients:
        for stalled in (False, True):
            for name in options.servers:
                figures = measure(name, SERVERS[name], clients, options.rounds, options.generators, stalled, scratch)
                results.append(figures)
                print(format_row(figures), flush=True)
    most = most_connections(options.most, options.generators, scratch) if options.most else None
    options.out.mkdir(parents=True, exist_ok=True)
    report = render(results, most, options)
    (options.out / "fanout.md").write_text(report)
    (options.out / "fanout.json").write_text(json.dumps({"results": results, "most": most}, indent=1))
    plot(results, options.plot)
    print()
    print(report)
    print(f"Written: {options.out / 'fanout.md'}, {options.plot}")


def format_row(f):
    return (
        f"| {f['server']} | {f['clients']:,} | {'yes' if f['stalled'] else 'no'} | {f['p50_ms']:.1f} | "
        f"{f['p95_ms']:.1f} | {f['max_ms']:.1f} | {f['cpu_us']:.1f} | {f['generator_cpu_us']:.1f} | "
        f"{f['connect_rate']:,.0f} | {f['memory_kib']:.1f} | {f.get('burst', '')} | {f.get('stalled_send_queue', '')} |"
    )


def render(results, most, options):
    lines = [
        f"Rounds: {options.rounds} per row; load generator processes: {options.generators}.",
        "",
        "| server | clients | stalled client | p50 ms | p95 ms | max ms | server CPU µs per delivery | "
        "generator CPU µs per delivery | connections/s | KiB per idle connection | "
        f"after a burst of {BURST} big cheeps, the other clients | and the server's output for the stalled one |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        *[format_row(f) for f in results],
        "",
        "Ratios, the solution against step 1's one loop (r1) and the websockets library (rw), same clients:",
        "",
        "| clients | stalled client | CPU r1 | CPU rw | p95 r1 | p95 rw | memory r1 |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_key = {(f["server"], f["clients"], f["stalled"]): f for f in results}
    for (server, clients, stalled), solution in by_key.items():
        if server != "solution":
            continue
        one_loop = by_key.get(("step 1 (one loop)", clients, stalled))
        library = by_key.get(("websockets library", clients, stalled))
        ratio = lambda key, other: f"{solution[key] / other[key]:.2f}" if other and other[key] else "–"  # noqa: E731
        lines.append(
            f"| {clients:,} | {'yes' if stalled else 'no'} | {ratio('cpu_us', one_loop)} | {ratio('cpu_us', library)} | "
            f"{ratio('p95_ms', one_loop)} | {ratio('p95_ms', library)} | {ratio('memory_kib', one_loop)} |"
        )
    for clients in sorted({f["clients"] for f in results}):
        calm, stalled = by_key.get(("solution", clients, False)), by_key.get(("solution", clients, True))
        if calm and stalled:
            lines.append("")
            lines.append(
                f"Solution, {clients:,} clients: a stalled client changes p95 by "
                f"{(stalled['p95_ms'] / calm['p95_ms'] - 1) * 100:+.0f}%."
            )
    if most:
        connected, seconds, memory = most
        reached = f"reached all of them in {seconds * 1000:.0f} ms" if seconds else "did NOT reach them all"
        lines += [
            "",
            f"One solution process held {connected:,} connections; one cheep {reached}; "
            f"the process used {memory / 2**20:.0f} MiB.",
        ]
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, cpu) = plt.subplots(1, 2, figsize=(10, 4))
    for name in SERVERS:
        rows = sorted((f for f in results if f["server"] == name and not f["stalled"]), key=lambda f: f["clients"])
        if not rows:
            continue
        clients = [f["clients"] for f in rows]
        (line,) = latency.plot(clients, [f["p95_ms"] for f in rows], marker="o", label=f"{name}, p95")
        latency.plot(
            clients,
            [f["p50_ms"] for f in rows],
            marker=".",
            linestyle="--",
            color=line.get_color(),
            label=f"{name}, median",
        )
        cpu.plot(clients, [f["cpu_us"] for f in rows], marker="o", color=line.get_color(), label=name)
    latency.set(
        xscale="log",
        yscale="log",
        xlabel="connected clients",
        ylabel="ms until every client has it",
        title="Broadcast completion time",
    )
    cpu.set(
        xscale="log",
        xlabel="connected clients",
        ylabel="µs of server CPU per delivered message",
        title="Server CPU per delivery",
        ylim=(0, None),
    )
    times = [f[key] for f in results if not f["stalled"] for key in ("p50_ms", "p95_ms")]
    low, high = min(times) * 0.8, max(times) * 1.25
    latency.set_yticks([t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if low <= t <= high])
    latency.set_ylim(low, high)
    plain = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    for axis in (latency.xaxis, latency.yaxis, cpu.xaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    latency.legend(fontsize=7)
    cpu.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
