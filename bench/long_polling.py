"""WebSocket against long polling: what the same cheeps cost, delivered to the same pages.

The long-polling exercise's answer (answers/long-polling) serves both. For each
way, in the same run:
- N pages: WebSocket clients, or clients that ask GET /api/cheeps?since=<id>&wait=1
  again and again, as the page does when a network blocks WebSockets;
- one sender POSTs C cheeps, one at a time, a little apart;
- every page must get every cheep once. Measured: the HTTP requests the pages
  made per cheep delivered (a socket's handshake is one request), the server's
  own CPU seconds per 1,000 cheeps delivered (psutil), and how long a cheep took
  from its POST to a page (the median, and the slowest 1 in 20).

The pages are threads in this one process, so on a small machine their own work
slows the deliveries too; compare the two ways with each other, not with other
benchmarks. docs/going-further-long-polling.md quotes one run.
"""

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from server_process import ServerProcess  # noqa: E402
from workshop.answers import make_answer  # noqa: E402
from workshop.stages import folder_of, stage_index  # noqa: E402

APP = folder_of(stage_index("long-polling"))  # made from answers/long-polling.patch when missing
SETTINGS = {  # no limits for one address (every page is 127.0.0.1), no pings
    "CHEEPER_PEOPLE_PER_ADDRESS": "1000000",
    "CHEEPER_PING_SECONDS": "3600",
}
GAP = 0.05  # seconds between two cheeps
WAIT = 30  # seconds for the last cheep to reach every page


class Pages:
    """N pages that note when each cheep reaches them, and count their requests."""

    def __init__(self, server, count, how):
        self.server, self.how = server, how
        self.arrived = [dict() for _ in range(count)]  # each page's: cheep text -> when it arrived
        self.requests = 0
        self.stopping = False
        self.lock = threading.Lock()
        self.ready = threading.Barrier(count + 1)
        self.threads = [threading.Thread(target=getattr(self, how), args=(n,), daemon=True) for n in range(count)]
        for thread in self.threads:
            thread.start()
        self.ready.wait()

    def count_request(self):
        with self.lock:
            self.requests += 1

    def arrive(self, page, cheep):
        if cheep["cheep"] in self.arrived[page]:
            raise AssertionError(f"A page got {cheep['cheep']!r} twice.")
        self.arrived[page][cheep["cheep"]] = time.monotonic()

    def websocket(self, page):
        client = websocket.create_connection(f"ws://127.0.0.1:{self.server.port}/ws", timeout=WAIT)
        self.count_request()  # the handshake
        self.ready.wait()
        while not self.stopping:
            try:
                message = json.loads(client.recv())
            except websocket.WebSocketTimeoutException:
                continue
            except websocket.WebSocketConnectionClosedException:
                return
            if message.get("type") == "cheep":
                self.arrive(page, message)

    def long_polling(self, page):
        http = requests.Session()
        since = newest_id(self.server)
        self.ready.wait()
        while not self.stopping:
            self.count_request()
            try:
                answer = http.get(
                    f"{self.server.url}/api/cheeps", params={"since": since, "wait": 1}, timeout=WAIT + 30
                )
            except requests.ConnectionError:
                if self.stopping:
                    return  # the server stopped at the end of the run
                raise
            answer.raise_for_status()
            for cheep in answer.json():
                self.arrive(page, cheep)
                since = max(since, cheep["id"])

    def all_have(self, texts):
        return all(set(texts) <= set(arrived) for arrived in self.arrived)


def newest_id(server):
    newest = requests.get(f"{server.url}/api/cheeps", params={"limit": 1}, timeout=10).json()
    return newest[0]["id"] if newest else 0


def measure(how, count, cheeps, folder):
    server = ServerProcess(APP, folder / f"{how}.db", env=SETTINGS).start()
    try:
        pages = Pages(server, count, how)
        process = psutil.Process(server.process.pid)
        time.sleep(0.5)  # every page is waiting: its GET or its socket has reached the server
        requests_before, cpu_before = pages.requests, sum(process.cpu_times()[:2])
        sent = {}
        for number in range(cheeps):
            text = f"{how} {number}"
            sent[text] = time.monotonic()
            answer = requests.post(f"{server.url}/api/cheep", json={"name": "bench", "cheep": text}, timeout=10)
            assert answer.status_code == 201, answer.text
            time.sleep(GAP)
        deadline = time.monotonic() + WAIT
        while not pages.all_have(sent) and time.monotonic() < deadline:
            time.sleep(0.05)
        cpu = sum(process.cpu_times()[:2]) - cpu_before
        asked = pages.requests - requests_before + (count if how == "websocket" else 0)  # the handshakes too
        pages.stopping = True
        delays = [arrived[text] - sent[text] for arrived in pages.arrived for text in sent if text in arrived]
    finally:
        server.kill()
    delivered = len(delays)
    return {
        "way": how,
        "pages": count,
        "cheeps": cheeps,
        "delivered": delivered,
        "expected": count * cheeps,
        "requests per cheep delivered": round(asked / delivered, 3),
        "server CPU s per 1000 delivered": round(1000 * cpu / delivered, 3),
        "median delay ms": round(1000 * statistics.median(delays), 1),
        "95th percentile delay ms": round(1000 * statistics.quantiles(delays, n=20)[-1], 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--cheeps", type=int, default=200)
    arguments = parser.parse_args()
    if not (APP / "server.py").exists():
        make_answer(stage_index("long-polling"))
    print(
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {psutil.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for how in ("websocket", "long_polling"):
            result = measure(how, arguments.pages, arguments.cheeps, Path(folder))
            print(json.dumps(result))


if __name__ == "__main__":
    main()
