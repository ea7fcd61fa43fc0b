"""The instructor's removal: how long until every open page has it? `make bench`
runs it after big_feed.py; docs/performance.md shows the results.

For each N, in one run: the solution on a free port, N clients connected
(spread over generator processes, as in fanout.py), and the instructor's
browser, as tests/app_client.py's Instructor. Each round posts a cheep, waits
until every client has it, then removes it with POST /api/instructor and times
the removal until the last client has the "removed" message. A last round
starts afresh. The issue's target: every open page within a second.
"""

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT), str(ROOT / "bench")]

from app_client import Instructor, post_json, unique  # noqa: E402
from fanout import Generators, percentile  # noqa: E402
from server_process import ServerProcess  # noqa: E402

SETTINGS = {"CHEEPER_PEOPLE_PER_ADDRESS": "100000", "CHEEPER_PING_SECONDS": "3600"}  # one address is the crowd
TARGET = 1.0  # seconds: every open page has the removal within this
OUT = ROOT / "bench" / "results" / "removals.md"


def measure(clients, rounds, processes):
    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(ROOT / "solution", Path(scratch) / "cheeps.db", env=SETTINGS).start()
        generators = Generators(server.port, clients, processes)
        instructor = Instructor(server)
        frames, times = 0, []  # text frames each client has had; seconds each removal took
        try:
            for _ in range(rounds):
                cheep_id = post_json(server, "Troll", unique("rude")).json()["id"]
                frames += 1
                assert generators.wait_for(frames) is not None, "A client never got the cheep."
                started = time.perf_counter()
                assert instructor.act({"type": "remove", "id": cheep_id}).status_code == 200
                frames += 1
                times.append(seconds_since(started, generators.wait_for(frames)))
            started = time.perf_counter()
            assert instructor.act({"type": "start-afresh"}).status_code == 200
            frames += 1
            afresh = seconds_since(started, generators.wait_for(frames))
        finally:
            generators.stop()
            server.kill()
    return {"clients": clients, "connect": generators.connect_seconds, "times": times, "afresh": afresh}


def seconds_since(started, done):
    """From `started` until the last page had it; infinite when some page never did."""
    return float("inf") if done is None else done - started


def render(results, rounds):
    lines = [
        "# The instructor's removal: until every open page has it",
        "",
        f"`{' '.join(['bench/removals.py', *sys.argv[1:]])}`, {time.strftime('%Y-%m-%d')}: the solution, SQLite, "
        f"{rounds} removals for each number of pages, each timed from the instructor's POST /api/instructor "
        'until the last page\'s socket has the "removed" message; then one start afresh.',
        "",
        "| pages | removal p50 | p95 | max | start afresh | every page within 1 s? |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        times = result["times"]
        worst = max(max(times), result["afresh"])
        lines.append(
            f"| {result['clients']:,} | {ms(statistics.median(times))} | {ms(percentile(times, 0.95))} | "
            f"{ms(max(times))} | {ms(result['afresh'])} | {'met' if worst < TARGET else 'not met'} |"
        )
    return "\n".join(lines) + "\n"


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000, 3000], help="pages connected")
    parser.add_argument("--rounds", type=int, default=20, help="removals timed for each number of pages")
    parser.add_argument("--processes", type=int, default=2, help="generator processes holding the pages")
    options = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets, here and in the server
    results = []
    for clients in options.clients:
        print(f"{clients} pages...", flush=True)
        results.append(measure(clients, options.rounds, options.processes))
    text = render(results, options.rounds)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
