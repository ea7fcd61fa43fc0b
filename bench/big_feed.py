"""A feed of 50,000 cheeps: does the app stay as quick as with 50? `make bench`
runs it after attacks.py; docs/performance.md shows the results.

In one run, with a database filled directly (50 cheeps, and 50,000):
1. the answers a page and a script ask for: GET /, GET /api/cheeps (the newest
   page), ?before=<the middle> and ?since=<50 before the newest>; their size,
   and the median time of 20 requests (or as many as fit in 15 s);
2. the same with each storage, SQLite and a real redis-server, and what the
   storage's own query costs, timed without the server around it;
3. a bystander's cheep, timed until it comes back, alone and then while
   newcomers arrive 20 at a time, once a second, as a room opens the link
   together: each loads GET / once, on a new connection;
4. Chromium on the page with 50,000 cheeps: the time until it says "Live",
   then a flood of 300 cheeps a second for 10 s: the page's long tasks, and
   how long each cheep took from its sending to its place in the feed.
Each figure is set against the issue's target (met / not met).

--app runs it against another copy of the app (an older solution, say, which
may ignore ?before= and ?limit=: it reports what it gets). The results go to
bench/results/big-feed.md for the working tree's solution, and to
bench/results/big-feed-before.md for any other --app; --out chooses another file.
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path

import redis
import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT), str(ROOT / "bench")]

from attacks import TIMED_OUT, Bystander  # noqa: E402
from browser import LAUNCH_ARGS, WINDOW_SIZE, find_chromium  # noqa: E402
from fanout import Sender, percentile, server_cpu  # noqa: E402
from server_process import ServerProcess  # noqa: E402
from services import RedisServer  # noqa: E402

SIZES = (50, 50_000)  # cheeps stored
PAGE = 50  # the cheeps a page shows
# One address (127.0.0.1) may be the whole crowd and flood; and no pings to answer.
SETTINGS = {"CHEEPER_PEOPLE_PER_ADDRESS": "100000", "CHEEPER_PING_SECONDS": "3600"}
REPEATS, TIME_BOX = 20, 15  # requests timed for each answer, or as many as fit in 15 s (3 at least)
NEWCOMERS = 20  # people who open the page at the same moment, once a second
CALM_SECONDS, BUSY_SECONDS = 15, 20  # the bystander alone, then with the newcomers: 60 and 80 cheeps
FLOOD_RATE, FLOOD_SECONDS, FLOOD_SOCKETS = 300, 10, 20  # 15 cheeps a second each: under a socket's 20 frames
LIVE_LIMIT = 60  # seconds a page may take to say "Live" before it counts as not live
SETTLE_LIMIT = 20  # seconds after the flood for the last cheeps to show
ANSWER_LIMIT = 30  # seconds a busy page may take to hand over its figures

TARGETS = {
    "page size": "GET / under 100 KiB at 50,000 cheeps",
    "page time": "GET / at 50,000 within 2× of at 50",
    "bystander": "a bystander's cheep, p50 and p95, within 2× of idle while 20 newcomers load the page",
    "long tasks": "no main-thread task over 100 ms in the page during the flood",
    "delay": "each cheep shown within 500 ms of its broadcast: p50, p95 and the slowest",
}


# Filling the storage: straight into the database, for speed. The server would
# take minutes to store 50,000 cheeps one by one.

WORDS = (
    "coffee rain lecture bus late sunny code python bug fixed lunch train meeting "
    "slides demo socket cheep hello room wifi laptop broken works again tea cake "
    "why how today tomorrow great slow fast quiet loud window queue green"
).split()
NAMES = ["Ada", "Grace", "Linus", "Guido", "Margaret", "Alan", "Barbara", "Ken", "Radia", "Tim"]


def made_up_cheeps(count):
    """`count` cheeps as (name, text of about 40 characters, ISO-8601 time), oldest
    first, a minute apart. Seeded: every run stores the same ones."""
    chance = random.Random(15)
    start = datetime(2026, 12, 3, 10, tzinfo=timezone.utc) - timedelta(minutes=count)
    for index in range(count):
        words = []
        while len(" ".join(words)) < 36:
            words.append(chance.choice(WORDS))
        stamp = (start + timedelta(minutes=index)).isoformat(timespec="seconds")
        yield chance.choice(NAMES), " ".join(words)[:44], stamp


def fill_sqlite(app, path, count):
    """A SQLite file holding `count` cheeps. The app makes its own table (its
    columns may differ from one version to the next), then sqlite3 fills it
    in one transaction. Returns what CHEEPER_DB says for it."""
    ServerProcess(app, path, env=SETTINGS).start().stop()
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO cheeps (name, cheep, time) VALUES (?, ?, ?)", made_up_cheeps(count))
    return str(path)


def fill_redis(server, number, count):
    """Redis database `number` holding `count` cheeps: the list the app reads, where
    a cheep's id is its place, from 1. Returns what CHEEPER_DB says for it."""
    url = f"redis://127.0.0.1:{server.port}/{number}"
    db = redis.Redis.from_url(url)
    db.flushdb()
    items = [json.dumps({"name": name, "cheep": text, "time": stamp}) for name, text, stamp in made_up_cheeps(count)]
    for start in range(0, count, 5000):  # in batches: one command of 50,000 items is a lot to build at once
        db.rpush("cheeper:cheeps", *items[start : start + 5000])
    return url


def start_server(app, database):
    """The app on a free port, reading its cheeps from `database` (a file, or a redis:// URL)."""
    # CHEEPER_DB in the settings: ServerProcess would turn a URL into a path.
    return ServerProcess(app, "unused", env={**SETTINGS, "CHEEPER_DB": database}).start()


# 1 and 2: the answers, and what the storage costs.


def answers_to_time(count):
    """What a page or a script asks for, with `count` cheeps stored: the same
    places in the feed, whatever its length."""
    return ["/", "/api/cheeps", f"/api/cheeps?before={count // 2}", f"/api/cheeps?since={max(count - PAGE, 0)}"]


def timed_gets(url):
    """The median time of GET url over REPEATS requests, each on a new connection
    (or as many as fit in TIME_BOX), and the last answer."""
    requests.get(url, timeout=120)  # untimed: the first request warms up the server's code and caches
    times, started = [], time.monotonic()
    while len(times) < REPEATS and (len(times) < 3 or time.monotonic() - started < TIME_BOX):
        began = time.perf_counter()
        answer = requests.get(url, timeout=120)
        times.append(time.perf_counter() - began)
    return statistics.median(times), answer


def cheeps_in(answer):
    """How many cheeps an answer holds: items of the JSON list, or the page's <li>."""
    if answer.headers.get("Content-Type", "").startswith("application/json"):
        return len(answer.json())
    return answer.text.count('<li class="cheep"')


def answer_rows(app, databases):
    """A row for each storage, size and answer: its size, cheeps and median time."""
    rows = []
    for (storage, count), database in databases.items():
        server = start_server(app, database)
        try:
            for path in answers_to_time(count):
                median, answer = timed_gets(server.url + path)
                rows.append(
                    {
                        "storage": storage,
                        "count": count,
                        "path": path,
                        "bytes": len(answer.content),
                        "cheeps": cheeps_in(answer),
                        "next": "Link" in answer.headers,
                        "ms": median * 1000,
                    }
                )
                print(
                    f"{storage}, {count:,} cheeps: GET {path}: {len(answer.content):,} bytes in {median * 1000:.1f} ms",
                    flush=True,
                )
        finally:
            server.kill()
    return rows


def median_microseconds(query, times=200):
    began = []
    for _ in range(times):
        start = time.perf_counter()
        query()
        began.append(time.perf_counter() - start)
    return statistics.median(began) * 1e6


def storage_rows(databases):
    """The storage's own queries for a page, without the server around them:
    what the newest, a middle and a caught-up page cost each storage."""
    rows = []
    for (storage, count), database in databases.items():
        middle, last = count // 2, max(count - PAGE, 0)
        if storage == "SQLite":
            db = sqlite3.connect(database)
            queries = {  # the id is the rowid: SQLite walks its B-tree to the page, O(log n + page)
                "newest page": lambda: db.execute("SELECT * FROM cheeps ORDER BY id DESC LIMIT 51").fetchall(),
                "page before the middle": lambda: db.execute(
                    "SELECT * FROM cheeps WHERE id < ? ORDER BY id DESC LIMIT 51", (middle,)
                ).fetchall(),
                "page since 50 before the newest": lambda: db.execute(
                    "SELECT * FROM cheeps WHERE id > ? ORDER BY id LIMIT 51", (last,)
                ).fetchall(),
                "every cheep (as the page once read them)": lambda: db.execute(
                    "SELECT * FROM cheeps ORDER BY id DESC"
                ).fetchall(),
            }
        else:
            db = redis.Redis.from_url(database)
            queries = {  # LRANGE walks from the nearer end, a block of cheeps at a time: O(S + N)
                "newest page": lambda: db.lrange("cheeper:cheeps", -51, -1),
                "page before the middle": lambda: db.lrange("cheeper:cheeps", max(middle - 52, 0), middle - 2),
                "page since 50 before the newest": lambda: db.lrange("cheeper:cheeps", last, last + 50),
                "every cheep (as the page once read them)": lambda: db.lrange("cheeper:cheeps", 0, -1),
            }
        for name, query in queries.items():
            rows.append(
                {
                    "storage": storage,
                    "count": count,
                    "query": name,
                    "µs": median_microseconds(query, times=20 if "every" in name else 200),
                }
            )
        db.close()
    return rows


# 3: a bystander while newcomers load the page.


class CheepsOnly(Bystander):
    """attacks.py's bystander, cheeping 4 times a second, without its own page
    loads: here the newcomers load the pages."""

    def load_pages(self):
        pass


def newcomers(url, stop, results):
    """Until `stop`: once a second, NEWCOMERS people open the page at the same
    moment, each on a new connection. (People loading it again and again, as
    fast as they can, are an attack: attacks.py.)"""
    times = []

    def one():
        began = time.perf_counter()
        try:
            requests.get(url, timeout=TIMED_OUT).raise_for_status()
            times.append(time.perf_counter() - began)
        except requests.RequestException:
            times.append(float("inf"))

    while not stop.is_set():
        second = time.monotonic() + 1
        threads = [threading.Thread(target=one) for _ in range(NEWCOMERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.wait(max(0, second - time.monotonic()))
    results.put(times)


def bystander_figures(app, database):
    """The bystander's round trips alone, and with the newcomers; their page loads."""
    server = start_server(app, database)
    try:
        calm = CheepsOnly(server)
        time.sleep(CALM_SECONDS)
        calm_trips, _ = calm.figures()
        stop, results = multiprocessing.Event(), multiprocessing.Queue()
        crowd = multiprocessing.Process(target=newcomers, args=(server.url + "/", stop, results))
        crowd.start()
        time.sleep(1)  # under way
        busy, cpu_before, started = CheepsOnly(server), server_cpu(server), time.monotonic()
        time.sleep(BUSY_SECONDS)
        busy_trips, _ = busy.figures()
        cpu = (server_cpu(server) - cpu_before) / (time.monotonic() - started)
        stop.set()
        loads = results.get(timeout=TIMED_OUT + 30)
        crowd.join()
        return {"calm": calm_trips, "busy": busy_trips, "loads": loads, "seconds": BUSY_SECONDS + 1, "cpu": cpu}
    finally:
        server.kill()


# 4: the page in Chromium, under a flood.

# Runs in the page before its own scripts: it records every long task (50 ms or
# more on the main thread), and the moment each flood cheep is put in the feed.
# Date.now() is the machine's clock, as the flooding process's time.time() is.
RECORDER = """
window.bench = {longTasks: [], shown: []};
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (task) {
    bench.longTasks.push({start: performance.timeOrigin + task.startTime, duration: task.duration});
  });
}).observe({type: "longtask", buffered: true});
document.addEventListener("DOMContentLoaded", function () {
  new MutationObserver(function (changes) {
    const now = Date.now();
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) {
        const found = /flood #(\\d+)/.exec(node.textContent || "");
        if (found) { bench.shown.push([Number(found[1]), now]); }
      });
    });
  }).observe(document.getElementById("feed"), {childList: true});
});
"""
LIVE = """() => {
  const status = document.querySelector("#status");
  return status && status.textContent.trim().startsWith("Live") && performance.now();
}"""
FIGURES = """() => JSON.stringify({
  longTasks: bench.longTasks, shown: bench.shown,
  items: document.querySelectorAll("#feed > li").length,
  status: document.querySelector("#status").textContent.trim(),
})"""
SHOWN = "() => bench.shown.length"


class Listener:
    """A plain WebSocket client beside the page: when the server's broadcast of
    each flood cheep reached it, to tell the server's delay from the page's."""

    def __init__(self, port):
        self.socket = websocket.create_connection(f"ws://127.0.0.1:{port}/ws", timeout=TIMED_OUT)
        self.arrived = {}  # flood cheep index -> time.time() it came
        threading.Thread(target=self.listen, daemon=True).start()

    def listen(self):
        with suppress(websocket.WebSocketException, OSError):
            while True:
                found = re.search(r"flood #(\d+)", self.socket.recv())
                if found:
                    self.arrived.setdefault(int(found[1]), time.time())


def flood(port, results):
    """FLOOD_RATE cheeps a second for FLOOD_SECONDS, over FLOOD_SOCKETS sockets in turn;
    reports when each was sent (time.time(), the clock the page's Date.now() reads),
    and when its broadcast reached a plain client."""
    listener = Listener(port)
    senders = [Sender(port) for _ in range(FLOOD_SOCKETS)]
    sent, start = [], time.time()
    for index in range(FLOOD_RATE * FLOOD_SECONDS):
        time.sleep(max(0, start + index / FLOOD_RATE - time.time()))
        sent.append(time.time())
        senders[index % FLOOD_SOCKETS].send(f"flood #{index} keeps coming, as fast as it can")
    deadline = time.time() + SETTLE_LIMIT
    while len(listener.arrived) < len(sent) and time.time() < deadline:
        time.sleep(0.1)
    results.put((sent, dict(listener.arrived)))


def browser_figures(app, database):
    """Open the page, wait for "Live", flood it, and read what it recorded."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    server = start_server(app, database)
    figures = {}
    try:
        with sync_playwright() as playwright:
            # The whole browser, as people run it: this measures how the page draws.
            browser = playwright.chromium.launch(
                executable_path=find_chromium(playwright, headless_shell=False), args=LAUNCH_ARGS
            )
            context = browser.new_context(viewport=WINDOW_SIZE)
            context.add_init_script(RECORDER)
            page = context.new_page()
            sockets = []  # each WebSocket the page opens: more than one, and it lost its connection
            page.on("websocket", lambda socket: sockets.append(socket.url))
            page.goto(server.url + "/", wait_until="commit", timeout=LIVE_LIMIT * 1000)
            try:
                figures["live ms"] = page.wait_for_function(LIVE, timeout=LIVE_LIMIT * 1000).json_value()
            except PlaywrightError:
                figures["problem"] = f"the page did not say Live within {LIVE_LIMIT} s"
                return figures
            results = multiprocessing.Queue()
            flooding = multiprocessing.Process(target=flood, args=(server.port, results))
            flood_start, cpu_before = time.time(), server_cpu(server)
            flooding.start()
            sent, figures["arrived"] = results.get(timeout=FLOOD_SECONDS + SETTLE_LIMIT + 60)
            figures["server cpu"] = (server_cpu(server) - cpu_before) / (time.time() - flood_start)
            flooding.join()
            figures["sent"] = sent
            figures.update(read_page(page, len(sent), PlaywrightError))
            figures["flood start"] = flood_start * 1000
            figures["sockets"] = len(sockets)
            browser.close()
    finally:
        server.kill()
    return figures


def read_page(page, sent, PlaywrightError):
    """What the page recorded, once it shows every cheep sent or SETTLE_LIMIT has passed.
    A page too busy to answer within ANSWER_LIMIT says so instead."""
    with_all = f"() => bench.shown.length >= {sent}"
    try:
        page.wait_for_function(with_all, timeout=SETTLE_LIMIT * 1000, polling=200)
    except PlaywrightError:
        pass  # not all shown: the figures say how many
    try:
        return json.loads(page.wait_for_function(FIGURES, timeout=ANSWER_LIMIT * 1000).json_value())
    except PlaywrightError:
        return {
            "problem": f"the page did not answer within {ANSWER_LIMIT} s of the flood's end: its main thread was busy"
        }


# The report.


def met(yes):
    return "met" if yes else "not met"


def ms(seconds):
    """Seconds in milliseconds, in words: "lost" for one that never came back."""
    return "lost" if seconds == float("inf") else f"{seconds * 1000:.1f} ms"


def answers_table(rows):
    lines = [
        "| storage | cheeps stored | request | answer, bytes | cheeps in it | Link: next | median ms |",
        "| --- | ---: | --- | ---: | ---: | --- | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['storage']} | {r['count']:,} | `GET {r['path']}` | {r['bytes']:,} | {r['cheeps']:,} "
            f"| {'yes' if r['next'] else 'no'} | {r['ms']:.1f} |"
        )
    return lines


def storage_table(rows):
    lines = ["| storage | query | µs at 50 cheeps | µs at 50,000 |", "| --- | --- | ---: | ---: |"]
    by = {(r["storage"], r["query"], r["count"]): r["µs"] for r in rows}
    for storage, query in dict.fromkeys((r["storage"], r["query"]) for r in rows):
        lines.append(
            f"| {storage} | {query} | {by[storage, query, SIZES[0]]:,.0f} | {by[storage, query, SIZES[1]]:,.0f} |"
        )
    return lines


def ratio_lines(rows):
    """For each storage and answer: the time at 50,000 cheeps against the time at 50."""
    lines = ["| storage | answer | ms at 50 cheeps | ms at 50,000 | × |", "| --- | --- | ---: | ---: | ---: |"]
    kinds = ["GET /", "newest page", "page before the middle", "page since 50 before the newest"]
    for storage in dict.fromkeys(r["storage"] for r in rows):
        small = [r for r in rows if r["storage"] == storage and r["count"] == SIZES[0]]
        big = [r for r in rows if r["storage"] == storage and r["count"] == SIZES[1]]
        for kind, a, b in zip(kinds, small, big):
            lines.append(f"| {storage} | {kind} | {a['ms']:.1f} | {b['ms']:.1f} | {b['ms'] / a['ms']:.1f} |")
    return lines


def target_lines(rows, bystander, pages):
    page_small = next(r for r in rows if r["storage"] == "SQLite" and r["count"] == SIZES[0] and r["path"] == "/")
    page_big = next(r for r in rows if r["storage"] == "SQLite" and r["count"] == SIZES[1] and r["path"] == "/")
    lines = ["| target | measured | |", "| --- | --- | --- |"]
    size = page_big["bytes"] / 1024
    lines.append(f"| {TARGETS['page size']} | {size:,.1f} KiB ({page_big['cheeps']:,} cheeps) | {met(size < 100)} |")
    times = page_big["ms"] / page_small["ms"]
    lines.append(
        f"| {TARGETS['page time']} | {page_big['ms']:.1f} ms against {page_small['ms']:.1f} ms: "
        f"{times:.1f}× | {met(times <= 2)} |"
    )
    calm, busy = bystander["calm"], bystander["busy"]
    p50s = (percentile(calm, 0.5), percentile(busy, 0.5)) if calm and busy else (float("inf"),) * 2
    p95s = (percentile(calm, 0.95), percentile(busy, 0.95)) if calm and busy else (float("inf"),) * 2
    lines.append(
        f"| {TARGETS['bystander']} | p50 {ms(p50s[1])} against {ms(p50s[0])} idle, p95 {ms(p95s[1])} "
        f"against {ms(p95s[0])} | {met(p50s[1] <= 2 * p50s[0] and p95s[1] <= 2 * p95s[0])} |"
    )
    for storage, page in pages.items():
        lines.extend(page_target_lines(storage, page))
    return lines


def page_target_lines(storage, page):
    """The page's targets under the flood, with this storage behind the server."""
    long_tasks, delay = f"{TARGETS['long tasks']} ({storage})", f"{TARGETS['delay']} ({storage})"
    if "problem" in page:
        return [f"| {long_tasks} | {page['problem']} | not met |", f"| {delay} | {page['problem']} | not met |"]
    during = [task["duration"] for task in page["longTasks"] if task["start"] >= page["flood start"]]
    longest = max(during, default=0)
    lines = [
        f"| {long_tasks} | longest {longest:.0f} ms, of {len(during)} long tasks "
        f"({sum(d > 100 for d in during)} over 100 ms) | {met(longest <= 100)} |"
    ]
    delays = broadcast_to_shown(page)
    if delays:
        p50, p95, slowest = summary(delays)
        missing = len(page["sent"]) - len(delays)
        lines.append(
            f"| {delay} | p50 {p50:.0f} ms, p95 {p95:.0f} ms, slowest {slowest:.0f} ms"
            f"{f'; {missing:,} never shown' if missing else ''} | {met(slowest <= 500 and not missing)} |"
        )
    else:
        lines.append(f"| {delay} | not one cheep shown | not met |")
    return lines


def summary(values):
    """p50, p95 and the largest."""
    return percentile(values, 0.5), percentile(values, 0.95), max(values)


def first_shown(page):
    """Each flood cheep's index -> the moment (ms, Date.now()) it first appeared in the feed."""
    first = {}
    for index, moment in page["shown"]:
        first.setdefault(index, moment)
    return first


def shown_delays(page):
    """Milliseconds from each cheep's sending to its first appearance in the feed."""
    return [
        moment - page["sent"][index] * 1000 for index, moment in first_shown(page).items() if index < len(page["sent"])
    ]


def broadcast_to_shown(page):
    """Milliseconds from each cheep's broadcast (its arrival at a plain WebSocket
    client beside the page) to its first appearance in the page's feed."""
    arrived, shown = page["arrived"], first_shown(page)
    return [shown[index] - arrived[index] * 1000 for index in shown if index in arrived]


def delay_sentences(page):
    """Where the delay from sending to shown went: the server's broadcast, and the page."""
    sent, arrived = page["sent"], page["arrived"]
    server = [(arrived[index] - sent[index]) * 1000 for index in arrived]
    own = broadcast_to_shown(page)
    lines = []
    if server:
        lines.append(
            "From its sending to the server's broadcast reaching a plain WebSocket client: "
            "p50 {:.0f} ms, p95 {:.0f} ms, slowest {:.0f} ms ({:,} of {:,} came).".format(
                *summary(server), len(server), len(sent)
            )
        )
    if own:
        lines.append(
            "From there to the page's feed (the page's own part): p50 {:.0f} ms, p95 {:.0f} ms, slowest {:.0f} ms.".format(
                *summary(own)
            )
        )
    return lines


def bystander_sentences(bystander):
    loads = bystander["loads"]
    done = [t for t in loads if t != float("inf")]
    return [
        f"The {NEWCOMERS} newcomers loaded the page {len(done):,} times in {bystander['seconds']} s "
        f"({len(done) / bystander['seconds']:,.0f} a second), p50 {ms(percentile(loads, 0.5)) if loads else 'lost'}, "
        f"p95 {ms(percentile(loads, 0.95)) if loads else 'lost'}"
        f"{f'; {len(loads) - len(done)} not within {TIMED_OUT} s' if len(done) < len(loads) else ''}. "
        f"Server CPU meanwhile: {bystander['cpu']:.0%}. The bystander sent {len(bystander['calm'])} cheeps idle, "
        f"{len(bystander['busy'])} with the newcomers ({sum(t == float('inf') for t in bystander['busy'])} lost)."
    ]


def page_sentences(storage, page):
    lines = []
    if "live ms" in page:
        lines.append(
            f'Chromium on the page with {SIZES[1]:,} cheeps in {storage}: "Live" {page["live ms"]:,.0f} ms '
            "after it asked for the page."
        )
    if "problem" in page:
        lines.append(f"In Chromium: {page['problem']}.")
    if "sent" in page and "shown" in page:
        before = [t["duration"] for t in page["longTasks"] if t["start"] < page["flood start"]]
        lines.append(
            f"Flood: {len(page['sent']):,} cheeps sent in {FLOOD_SECONDS} s, {len(shown_delays(page)):,} shown; "
            f"the feed held {page['items']:,} `li` at the end. While the page loaded: {len(before)} long tasks, "
            f"the longest {max(before, default=0):.0f} ms. Server CPU during the flood: {page['server cpu']:.0%}; "
            f'the page opened {page["sockets"]} WebSocket(s), and its status said: "{page["status"]}"'
        )
        lines.extend(delay_sentences(page))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", type=Path, default=ROOT / "solution", help="the app folder to measure")
    parser.add_argument("--out", type=Path, help="where to write the results (see above)")
    options = parser.parse_args()
    app = options.app.resolve()
    out = options.out or ROOT / "bench" / "results" / (
        "big-feed.md" if app == ROOT / "solution" else "big-feed-before.md"
    )
    load_at_start = os.getloadavg()[0]  # the machine may be busy with more than this benchmark
    scratch = Path(tempfile.mkdtemp())
    redis_server = RedisServer(scratch).start()
    try:
        print(
            f"Filling the storage: {' and '.join(f'{n:,}' for n in SIZES)} cheeps, in SQLite and in Redis.", flush=True
        )
        databases = {("SQLite", n): fill_sqlite(app, scratch / f"{n}.db", n) for n in SIZES}
        databases.update({("Redis", n): fill_redis(redis_server, number, n) for number, n in enumerate(SIZES)})
        rows = answer_rows(app, databases)
        queries = storage_rows(databases)
        print("A bystander, alone and with the newcomers.", flush=True)
        bystander = bystander_figures(app, databases["SQLite", SIZES[1]])
        pages = {}
        for kind in ("SQLite", "Redis"):  # Redis: the same flood, without a disk to wait for
            print(f"Chromium on the page, under a flood ({kind}).", flush=True)
            pages[kind] = browser_figures(app, databases[kind, SIZES[1]])
    finally:
        redis_server.stop()
    name = app.relative_to(ROOT) if app.is_relative_to(ROOT) else app
    lines = [
        f"The app: {name}; on {os.cpu_count()} cores, load average {load_at_start:.1f} as it started. "
        f"Against the targets of a feed of {SIZES[1]:,} cheeps (SQLite, unless it says Redis):",
        "",
        *target_lines(rows, bystander, pages),
        "",
        *bystander_sentences(bystander),
        "",
        *[line for storage, page in pages.items() for line in page_sentences(storage, page) + [""]],
        f"Each answer, median of {REPEATS} requests (fewer when they took over {TIME_BOX} s together):",
        "",
        *answers_table(rows),
        "",
        "Time at 50,000 cheeps against 50:",
        "",
        *ratio_lines(rows),
        "",
        "The storage's own query for 51 cheeps (a page and one more), without the server; median of 200:",
        "",
        *storage_table(queries),
    ]
    print("\n".join(lines))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"Written: {out}")


if __name__ == "__main__":
    main()
