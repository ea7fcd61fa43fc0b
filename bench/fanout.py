"""The fan-out benchmark: how fast a cheep reaches N connected pages, and what
it costs the server. `make bench` runs it; docs/performance.md shows the results.

For each N, several repeats, and in each repeat every server in turn (so that
a noisy moment on a shared machine falls on one repeat, not on one server):
- a fresh server process on a free port;
- N clients, spread over several generator processes (bench/load.py), and the
  time it took to connect them all;
- the server's memory per idle connection (its RSS before and after);
- rounds: one cheep sent over a WebSocket, timed until every client has it,
  and the server's own CPU time for all the rounds, per delivered message;
- once for each N, the same with one stalled client, which connected first
  and never reads; after the rounds, a burst of big cheeps: did every other
  client get them all, and how much output does the server hold for the
  stalled one (the Send-Q of its connection, from `ss`)?
Each figure is then the median of the repeats, with their min–max.

The servers: the solution; step 1, whose broadcast is the lesson's one loop;
the websockets library's own broadcast(), in asyncio; Flask-SocketIO, what a
Flask app would most likely use; the floor, one raw send() to each socket; and
the solution as 2 gunicorn workers sharing Redis (bench/two_workers.py).
"""

import argparse
import json
import multiprocessing
import multiprocessing.connection
import resource
import shutil
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
import socketio_load  # noqa: E402
from server_process import ServerProcess  # noqa: E402
from two_workers import TwoWorkers  # noqa: E402

TWO_WORKERS = "solution, 2 workers"
SERVERS = {
    "solution": ROOT / "solution",
    "step 1 (one loop)": ROOT / "step1_server",
    "websockets library": ROOT / "bench" / "websockets_reference",
    "Flask-SocketIO": ROOT / "bench" / "flask_socketio_peer",
    "floor (raw send)": ROOT / "bench" / "floor",
    TWO_WORKERS: ROOT / "solution",
}
PROTOCOLS = {"Flask-SocketIO": socketio_load.SOCKET_IO}  # the others speak Cheeper's own
# The rows with a stalled client, and its burst: the servers that promise something about it.
WITH_STALLED = ["solution", "step 1 (one loop)", "websockets library"]
PEERS = ["Flask-SocketIO", "websockets library", "step 1 (one loop)", "floor (raw send)"]  # the solution against each
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

    def __init__(self, port, protocol=load.CHEEPER):
        self.protocol = protocol
        self.socket, buffer = load.connect(port, protocol)
        threading.Thread(target=self.drain, args=(buffer,), daemon=True).start()

    def drain(self, buffer):
        while chunk := self.socket.recv(262144):
            buffer += chunk
            found, used = load.frames_in(buffer)
            for start, end in found:
                if reply := self.protocol.answer(buffer[start:end]):
                    self.socket.sendall(reply)  # a ping: the sender must stay connected too
            del buffer[:used]

    def send(self, text):
        # With a key, as the solution's page sends it: the broadcast carries it too.
        # (The peers ignore it, or store it.)
        cheep = {"type": "cheep", "name": "bench", "cheep": text, "key": uuid.uuid4().hex}
        self.socket.sendall(self.protocol.cheep(cheep))


class Generators:
    """Clients in several processes, and what they report."""

    def __init__(self, port, clients, processes, protocol=load.CHEEPER):
        self.pipes = []
        self.processes = []
        shares = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
        for share in shares:
            mine, theirs = multiprocessing.Pipe()
            process = multiprocessing.Process(target=load.run, args=(port, share, theirs, protocol), daemon=True)
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


def server_processes(server):
    """The server's process, and its children: gunicorn's workers."""
    process = psutil.Process(server.process.pid)
    return [process, *process.children(recursive=True)]


def server_cpu(server):
    """Seconds of CPU the server has used, all its processes together. Linux counts
    it to the nanosecond in schedstat; psutil's user and system times come in 10 ms steps."""
    total = 0
    for process in server_processes(server):
        tasks = Path(f"/proc/{process.pid}/task")
        if tasks.is_dir():
            total += sum(int((task / "schedstat").read_text().split()[0]) for task in tasks.iterdir()) / 1e9
        else:
            times = process.cpu_times()
            total += times.user + times.system
    return total


def server_memory(server):
    return sum(process.memory_info().rss for process in server_processes(server))


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


def start(name, scratch):
    database = scratch / f"{uuid.uuid4().hex}.db"  # a fresh one each time: every server starts empty
    if name == TWO_WORKERS:
        return TwoWorkers(SERVERS[name], database, scratch, SETTINGS)
    return ServerProcess(SERVERS[name], database, env=SETTINGS).start()


def measure(name, clients, rounds, processes, stalled, scratch):
    """One server, N clients, the rounds; a dict of figures."""
    server = start(name, scratch)
    protocol = PROTOCOLS.get(name, load.CHEEPER)
    try:
        sender = Sender(server.port, protocol)
        slow = load.open_client(server.port, receive_buffer=4096)[0] if stalled else None
        time.sleep(0.5)
        memory_before = server_memory(server)
        generators = Generators(server.port, clients, processes, protocol)
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
            "all_delivered": all(latency != float("inf") for latency in latencies) and len(latencies) == rounds,
        }
        if name == TWO_WORKERS:
            figures["split"] = server.split()
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
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 3000, 5000])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument(
        "--repeats", type=int, default=3, help="interleaved repeats of each row: figures are their median"
    )
    parser.add_argument("--generators", type=int, default=2, help="load generator processes")
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--no-stalled", action="store_true", help="skip the rows with a stalled client")
    parser.add_argument("--most", type=int, default=10_000, help="connections for the one-process check (0: skip)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where the table goes")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "images" / "fanout.png")
    options = parser.parse_args()
    if TWO_WORKERS in options.servers and not shutil.which("redis-server"):
        print("No redis-server here (apt-get install redis-server): measuring without the 2 workers.")
        options.servers.remove(TWO_WORKERS)

    started = time.monotonic()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets, here and in the servers
    scratch = Path(tempfile.mkdtemp())
    # A first run warms the machine up (CPU clocks, caches): without it, the
    # first row measured came out slower than the same one measured later.
    measure(options.servers[0], min(options.clients), 5, options.generators, False, scratch)
    results = []
    for clients in options.clients:
        # Every server once, then every server again: interleaved, so that a busy
        # moment on the machine lands on one repeat of each, not on one server.
        for repeat in range(1, options.repeats + 1):
            for name in options.servers:
                figures = measure(name, clients, options.rounds, options.generators, False, scratch)
                figures["repeat"] = repeat
                results.append(figures)
                print(format_row(figures), flush=True)
        for name in [] if options.no_stalled else [name for name in options.servers if name in WITH_STALLED]:
            figures = measure(name, clients, options.rounds, options.generators, True, scratch)
            results.append(figures)
            print(format_row(figures), flush=True)
    most = most_connections(options.most, options.generators, scratch) if options.most else None
    minutes = (time.monotonic() - started) / 60
    options.out.mkdir(parents=True, exist_ok=True)
    report = render(results, most, options, minutes)
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


def spread(values, digits=1):
    """A figure over the repeats: "median (min–max)"."""
    median = f"{statistics.median(values):,.{digits}f}"
    return median if len(values) == 1 else f"{median} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def repeats_of(results):
    """The rows without a stalled client, by (server, clients): the repeats of each."""
    rows = {}
    for f in results:
        if not f["stalled"]:
            rows.setdefault((f["server"], f["clients"]), []).append(f)
    return rows


def paired(ones, others, figure):
    """Ratios of a figure, one server's against another's, each repeat with the same
    repeat's: they were measured minutes apart, under the same load."""
    others = {f["repeat"]: f for f in others}
    return [f[figure] / others[f["repeat"]][figure] for f in ones if others.get(f["repeat"], {}).get(figure)]


def deliveries_per_cpu_second(f):
    return 1e6 / f["cpu_us"]


def deliveries_per_second(f):
    """While a broadcast runs: how many clients it reached, per second it took (median round)."""
    return (f["clients"] + 1) / (f["p50_ms"] / 1000)


def render(results, most, options, minutes):
    rows = repeats_of(results)
    lines = [
        f"Rounds: {options.rounds} per row; repeats: {options.repeats}, interleaved (every server once, then "
        f"again); load generator processes: {options.generators}; the whole run took {minutes:.0f} minutes.",
        "Each figure: the median of the repeats (min–max).",
        "",
        "| server | clients | p50 ms | p95 ms | max ms | server CPU µs per delivery | "
        "generator CPU µs per delivery | connections/s | KiB per idle connection | every client had every cheep |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for (server, clients), repeats in rows.items():
        figure = lambda key, digits=1: spread([f[key] for f in repeats], digits)  # noqa: E731
        every = "yes" if all(f["all_delivered"] for f in repeats) else "NO"
        lines.append(
            f"| {server} | {clients:,} | {figure('p50_ms')} | {figure('p95_ms')} | {figure('max_ms')} | "
            f"{figure('cpu_us')} | {figure('generator_cpu_us')} | {figure('connect_rate', 0)} | "
            f"{figure('memory_kib')} | {every} |"
        )
    stalled = [f for f in results if f["stalled"]]
    if stalled:
        lines += [
            "",
            "With one stalled client (one run each):",
            "",
            "| server | clients | stalled client | p50 ms | p95 ms | max ms | server CPU µs per delivery | "
            "generator CPU µs per delivery | connections/s | KiB per idle connection | "
            f"after a burst of {BURST} big cheeps, the other clients | and the server's output for the stalled one |",
            "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
            *[format_row(f) for f in stalled],
        ]
    lines += [
        "",
        "The solution against each, same clients: the solution's figure divided by the other's, in each repeat, "
        "median (min–max) of those ratios. Below 1: the solution uses less, or is sooner.",
        "",
        "| clients | solution against | server CPU per delivery | p95 | memory per idle connection |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for clients in options.clients:
        solution = rows.get(("solution", clients))
        for peer in PEERS:
            other = rows.get((peer, clients))
            if solution and other:
                ratios = [spread(paired(solution, other, key), 2) for key in ("cpu_us", "p95_ms", "memory_kib")]
                lines.append(f"| {clients:,} | {peer} | {' | '.join(ratios)} |")
    lines += [
        "",
        "One worker (python server.py) against 2 gunicorn workers sharing Redis, same clients, split between the "
        "workers by the operating system. Deliveries per second of server CPU: both workers' CPU together "
        "(not Redis's). Deliveries per second while broadcasting: clients reached per second of the median round.",
        "",
        "| clients | deliveries per server CPU second, 1 worker | 2 workers | 2 / 1 | "
        "deliveries per second while broadcasting, 1 worker | 2 workers | 2 / 1 | p95 ms, 1 worker | 2 workers | "
        "clients on each worker |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for clients in options.clients:
        one, two = rows.get(("solution", clients)), rows.get((TWO_WORKERS, clients))
        if one and two:
            cells = []
            for rate in (deliveries_per_cpu_second, deliveries_per_second):
                for f in one, two:
                    cells.append(spread([rate(repeat) for repeat in f], 0))
                by_repeat = {f["repeat"]: rate(f) for f in one}
                cells.append(spread([rate(f) / by_repeat[f["repeat"]] for f in two if f["repeat"] in by_repeat], 2))
            cells += [spread([f["p95_ms"] for f in one]), spread([f["p95_ms"] for f in two])]
            cells.append(", ".join(f["split"] for f in two))
            lines.append(f"| {clients:,} | {' | '.join(cells)} |")
    for clients in options.clients:
        calm = rows.get(("solution", clients))
        held_up = next((f for f in stalled if f["server"] == "solution" and f["clients"] == clients), None)
        if calm and held_up:
            lines.append("")
            lines.append(
                f"Solution, {clients:,} clients: a stalled client changes p95 by "
                f"{(held_up['p95_ms'] / statistics.median(f['p95_ms'] for f in calm) - 1) * 100:+.0f}%."
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

    rows = repeats_of(results)
    figure, (latency, cpu) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name in SERVERS:
        clients = sorted(n for server, n in rows if server == name)
        if not clients:
            continue
        for axis, key in ((latency, "p95_ms"), (cpu, "cpu_us")):
            values = [[f[key] for f in rows[name, n]] for n in clients]
            middle = [statistics.median(v) for v in values]
            below = [m - min(v) for m, v in zip(middle, values)]
            above = [max(v) - m for m, v in zip(middle, values)]
            # The median of the repeats, and a bar from their lowest to their highest.
            # The floor is no server one would run: drawn as a line to read the others against.
            style = {"color": "black", "linestyle": "--"} if name.startswith("floor") else {}
            axis.errorbar(clients, middle, yerr=[below, above], marker="o", capsize=3, label=name, **style)
    latency.set(
        xscale="log",
        yscale="log",
        xlabel="connected clients",
        ylabel="ms until every client has it (p95)",
        title="Broadcast completion time",
    )
    cpu.set(
        xscale="log",
        yscale="log",
        xlabel="connected clients",
        ylabel="µs of server CPU per delivered message",
        title="Server CPU per delivery",
    )
    for axis, key in ((latency, "p95_ms"), (cpu, "cpu_us")):
        values = [f[key] for f in results if not f["stalled"]]
        low, high = min(values) * 0.8, max(values) * 1.25
        axis.set_yticks([t for t in (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000) if low <= t <= high])
        axis.set_ylim(low, high)
    plain = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    for axis in (latency.xaxis, latency.yaxis, cpu.xaxis, cpu.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    for axis in (latency, cpu):
        axis.set_xticks(sorted({n for _, n in rows}))
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
