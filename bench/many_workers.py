"""How much later a cheep reaches a page on another worker, through Redis, than a
page on the worker that stored it.

Starts a redis-server and two solution servers sharing it (as the tests do),
connects one page to each, posts cheeps to the first, and times their arrival on
both pages. Run: .venv/bin/python bench/many_workers.py [rounds]
"""

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from server_process import ServerProcess  # noqa: E402
from services import RedisServer  # noqa: E402


def arrivals(client, count, times):
    """Record when each of `count` cheeps arrives on a client: times[text] = clock."""
    for _ in range(count):
        message = json.loads(client.recv())
        times[message["cheep"]] = time.perf_counter()


def percentiles(delays):
    delays = sorted(delay * 1000 for delay in delays)
    return (
        f"p50 {statistics.median(delays):.2f} ms, p95 {delays[int(len(delays) * 0.95)]:.2f} ms, max {delays[-1]:.2f} ms"
    )


def delivery_times(post_to, pages, rounds):
    """Post `rounds` cheeps to one server; for each page, the delays until it had each."""
    times = [{} for _ in pages]
    readers = [threading.Thread(target=arrivals, args=(page, rounds, got)) for page, got in zip(pages, times)]
    for reader in readers:
        reader.start()
    sent = {}
    with requests.Session() as session:
        for n in range(rounds):
            text = f"cheep {n}"
            sent[text] = time.perf_counter()
            session.post(post_to.url + "/api/cheep", json={"name": "bench", "cheep": text})
            time.sleep(0.005)
    for reader in readers:
        reader.join()
    return [[got[text] - sent[text] for text in sent] for got in times]


def main(rounds):
    folder = Path(tempfile.mkdtemp())
    alone = ServerProcess(ROOT / "solution", folder / "alone.db").start()
    redis_server = RedisServer(folder).start()
    settings = {"CHEEPER_REDIS_URL": redis_server.url}
    workers = [ServerProcess(ROOT / "solution", folder / "shared.db", env=settings).start() for _ in range(2)]
    try:
        time.sleep(0.5)  # both workers listening to Redis
        [single] = delivery_times(alone, [alone.connect()], rounds)
        same, other = delivery_times(workers[0], [worker.connect() for worker in workers], rounds)
        print(f"{rounds} cheeps, each posted to one worker; the time from the POST until a page has it:")
        print(f"  one worker, no Redis:                     {percentiles(single)}")
        print(f"  two workers, a page on the same worker:   {percentiles(same)}")
        print(f"  two workers, a page on the other worker:  {percentiles(other)}")
        extra = statistics.median(o - s for o, s in zip(other, same)) * 1000
        print(f"  the other worker's page gets it later than the same worker's by {extra:.2f} ms (median)")
    finally:
        for server in [alone, *workers]:
            server.kill()
        redis_server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
