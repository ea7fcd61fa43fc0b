"""The solution's promises when it runs as several workers (docs/many-workers.md):
every cheep reaches every page on every worker, once, through a real Redis; losing
Redis takes no worker down, and what was missed arrives when Redis is back; the
same through gunicorn and through nginx configured as solution/nginx.conf says.

These tests need redis-server and nginx installed; without them they skip (and fail
in CI). `make check` leaves them out: they are about deployment, not the workshop.
"""

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
import requests
import websocket

from app_client import (
    PEOPLE_BEHIND_A_PROXY,
    Instructor,
    assert_each_key_stored_once_when_raced,
    cheeps_since,
    instructor_link,
    new_key,
    post_json,
    post_progress,
    receive_close,
    receive_json,
    receive_type,
    send_cheep,
    socket_address,
    stored_with,
    unique,
    wait_until,
)
from server_process import Gunicorn
from waits import QUIET, RESUME, WAIT

pytestmark = [pytest.mark.stage("solution"), pytest.mark.many_workers]

# Workers side by side share the instructor's key, as gunicorn.conf.py makes them.
ONE_KEY = {"CHEEPER_INSTRUCTOR_KEY": "the-same-key-for-every-worker"}


def cheeps_arriving(client, seconds=QUIET):
    """The texts of every cheep that arrives on a client within `seconds`, in order."""
    client.settimeout(seconds)
    texts = []
    try:
        while True:
            message = receive_json(client)
            if message["type"] == "cheep":
                texts.append(message["cheep"])
    except websocket.WebSocketTimeoutException:
        return texts
    finally:
        client.settimeout(WAIT)


def gets(client, text, seconds=WAIT):
    """Whether `text` arrives on the client within `seconds` (other cheeps are skipped)."""
    return wait_until(lambda: text in cheeps_arriving(client, 0.2), seconds)


def page_through(nginx):
    """A page's socket through nginx, with the Origin a browser sends on a page nginx served."""
    return websocket.create_connection(socket_address(nginx), timeout=WAIT, origin=nginx.url)


def listening(worker, times=1):
    """Whether the worker has subscribed to Redis `times` times, within RESUME seconds."""
    return wait_until(lambda: worker.output().count("Sharing cheeps with the other workers") >= times, RESUME)


def holds_pages(worker, port):
    """Whether a gunicorn worker holds a connection from a page: every worker also
    holds the listening socket, and its connections to Redis."""
    return any(
        connection.status == psutil.CONN_ESTABLISHED and connection.laddr.port == port
        for connection in worker.net_connections("tcp")
    )


def start_workers(start_server, databases, settings):
    """A server for each database, each listening on Redis already: a test that
    drops their subscriptions must not run before they have one."""
    workers = [start_server(database=database, env=settings) for database in databases]
    assert all(listening(worker) for worker in workers), "A worker never subscribed to Redis."
    return workers


@pytest.fixture
def two_workers(start_server, redis_server, tmp_path):
    """Two servers side by side, sharing one SQLite file, a Redis and the instructor's key."""
    settings = {"CHEEPER_REDIS_URL": redis_server.url, **ONE_KEY}
    return start_workers(start_server, [tmp_path / "shared.db"] * 2, settings)


def test_a_cheep_sent_to_one_worker_reaches_the_pages_on_both_once(two_workers):
    """A cheep sent to one worker reaches the pages on both workers, once."""
    first, second = two_workers
    on_first, on_second = first.connect(), second.connect()
    by_socket, by_post = unique("by socket"), unique("by post")
    send_cheep(on_first, "Ada", by_socket)
    assert post_json(second, "Bo", by_post).status_code == 201
    # In the order each worker heard of them: its own cheep may come first.
    assert sorted(cheeps_arriving(on_first, 1)) == sorted([by_socket, by_post])
    assert sorted(cheeps_arriving(on_second, 1)) == sorted([by_socket, by_post]), (
        "A page on the second worker did not get each cheep exactly once."
    )


def test_without_redis_each_worker_serves_its_own_pages_and_catches_up_when_it_returns(two_workers, redis_server):
    """Without Redis, each worker serves its own pages, and catches up when Redis returns."""
    first, second = two_workers
    on_first, on_second = first.connect(), second.connect()
    redis_server.stop()
    while_away = unique("while Redis is away")
    send_cheep(on_first, "Ada", while_away)
    assert gets(on_first, while_away), "Without Redis, a worker stopped sending its pages its own cheeps."
    assert while_away not in cheeps_arriving(on_second), "How did it cross without Redis?"
    assert "Lost Redis" in first.output()
    redis_server.start()
    assert gets(on_second, while_away, RESUME), (
        "When Redis came back, the second worker did not send its page the cheep it missed."
    )
    # Each worker finds Redis again after its own random wait.
    assert listening(first, 2) and listening(second, 2), "A worker did not subscribe to Redis again."
    after = unique("after Redis came back")
    send_cheep(on_second, "Bo", after)
    assert cheeps_arriving(on_first, 1) == [after]
    assert [c["cheep"] for c in cheeps_since(second, 0)] == [while_away, after]


def test_a_worker_that_stopped_listening_reads_what_it_missed_from_storage(two_workers, redis_server):
    """A worker that stopped listening reads what it missed from storage."""
    first, second = two_workers
    on_second = second.connect()
    # Redis drops the workers' subscriptions, and keeps every other connection.
    # A worker must notice: what is published before it listens again is gone.
    redis_server.client.client_kill_filter(_type="pubsub")
    assert wait_until(lambda: "Lost Redis" in second.output()), "The worker did not notice."
    # Again, and Redis refuses new subscriptions for a while: the first worker's
    # cheep is published while nobody listens.
    redis_server.client.execute_command("ACL SETUSER default -subscribe")
    redis_server.client.client_kill_filter(_type="pubsub")
    unheard = unique("published while nobody listened")
    send_cheep(first.connect(), "Ada", unheard)
    assert unheard not in cheeps_arriving(on_second)
    redis_server.client.execute_command("ACL SETUSER default +subscribe")
    assert gets(on_second, unheard, RESUME), "The worker did not catch up on what it missed."
    assert cheeps_arriving(on_second) == [], "The page got the cheep twice."


def test_a_page_that_reconnects_catches_up_on_any_worker(two_workers):
    """A page that reconnects catches up on any worker."""
    first, second = two_workers
    missed = unique("missed")
    post_json(first, "Ada", missed)
    assert cheeps_since(second, 0)[-1]["cheep"] == missed


def test_messages_on_the_channel_that_are_no_cheeps_disturb_no_worker(two_workers, redis_server):
    """Messages on the channel that are not cheeps disturb no worker."""
    first, second = two_workers
    on_second = second.connect()
    junk = [
        "not a cheep",
        '{"id": "x", "name": "a", "cheep": "b", "time": "c"}',
        '{"id": 5}',
        "[]",
        '{"worker": "w", "message": {"type": "removed", "id": "x", "seq": 1}}',
        '{"worker": "w", "message": {"type": "muted", "what": "everyone", "value": "a", "label": "a"}}',
        '{"worker": "w", "message": {"type": "muted", "what": "name", "value": [1], "label": "a"}}',
        '{"worker": "w", "message": {"type": "cleared", "up_to": "all", "seq": 1}}',
        '{"worker": "w", "message": {"type": "progress", "learner": "x", "name": "a", "step": "zz", "kept": 1, '
        '"promises": 2, "failing": "f", "time": "t"}}',
        '{"worker": "w", "message": {"type": []}}',
    ]
    for message in junk:
        redis_server.client.publish("cheeper:new-cheeps", message)
    assert wait_until(lambda: second.output().count("Not a message of Cheeper's on the Redis channel") == len(junk))
    # A lost subscription makes the workers catch up: junk must not break that either.
    redis_server.client.client_kill_filter(_type="pubsub")
    assert wait_until(lambda: "Lost Redis" in second.output())
    after = unique()
    send_cheep(first.connect(), "Ada", after)
    assert gets(on_second, after, RESUME)


@pytest.fixture
def workers_sharing_redis_storage(start_server, redis_server, tmp_path):
    """Two servers as on two machines: nothing shared but Redis, which keeps the cheeps too, and the instructor's key."""
    settings = {"CHEEPER_REDIS_URL": redis_server.url, "CHEEPER_DB": redis_server.url, **ONE_KEY}
    return start_workers(start_server, [tmp_path / f"unused{n}.db" for n in range(2)], settings)


@pytest.fixture(params=["two_workers", "workers_sharing_redis_storage"], ids=["SQLite", "Redis"])
def workers_with_either_storage(request, start_server):
    return request.getfixturevalue(request.param)


def test_the_instructor_on_one_worker_acts_on_the_pages_of_every_worker(workers_with_either_storage):
    """The instructor on one worker acts on the pages of every worker."""
    first, second = workers_with_either_storage
    instructor = Instructor(first)
    instructors_page, page = instructor.connect(), second.connect()
    # The instructor's page on the second worker: it hears of a mute once that worker has it.
    instructors_second_page = Instructor(second).connect()
    rude = unique("rude")
    rude_id = post_json(second, "Troll", rude).json()["id"]
    assert instructor.act({"type": "remove", "id": rude_id}).status_code == 200
    assert receive_type(page, "removed")["id"] == rude_id
    assert rude not in [cheep["cheep"] for cheep in cheeps_since(second, 0)]
    assert instructor.act({"type": "mute", "id": post_json(second, "Troll", unique()).json()["id"], "what": "name"}).ok
    assert receive_type(instructors_second_page, "muted")["value"] == "troll"
    assert post_json(second, "Troll", unique("again")).status_code == 403, "The mute did not reach the second worker."
    assert post_progress(second).status_code == 201
    assert receive_type(instructors_page, "progress")["name"] == "Ada"
    assert instructor.act({"type": "start-afresh"}).status_code == 200
    assert receive_type(page, "cleared")["up_to"] >= rude_id
    assert requests.get(second.url + "/api/cheeps").json() == []
    assert post_json(second, "Troll", unique("a new workshop")).status_code == 201, "A new workshop keeps old mutes."


def test_a_worker_that_starts_after_a_mute_learns_it_from_redis(start_server, redis_server, tmp_path):
    """A worker that starts after a mute learns of it from Redis."""
    settings = {"CHEEPER_REDIS_URL": redis_server.url, **ONE_KEY}
    (first,) = start_workers(start_server, [tmp_path / "shared.db"], settings)
    troll_id = post_json(first, "Troll", unique("rude")).json()["id"]
    assert Instructor(first).act({"type": "mute", "id": troll_id, "what": "name"}).status_code == 200
    assert wait_until(lambda: redis_server.client.hlen("cheeper:muted") == 1)  # published, and kept
    (second,) = start_workers(start_server, [tmp_path / "shared.db"], settings)
    assert post_json(second, "Troll", unique("again")).status_code == 403, "The new worker let a muted name cheep."


def test_a_worker_that_missed_a_removal_while_not_listening_passes_it_on_from_storage(two_workers, redis_server):
    """A worker that missed a removal while not listening passes it on from storage."""
    first, second = two_workers
    rude_id = post_json(first, "Troll", unique("rude")).json()["id"]
    on_second = second.connect()
    redis_server.client.client_kill_filter(_type="pubsub")
    assert wait_until(lambda: "Lost Redis" in second.output()), "The worker did not notice."
    redis_server.client.execute_command("ACL SETUSER default -subscribe")  # published while nobody listens
    redis_server.client.client_kill_filter(_type="pubsub")
    assert Instructor(first).act({"type": "remove", "id": rude_id}).status_code == 200
    redis_server.client.execute_command("ACL SETUSER default +subscribe")
    on_second.settimeout(RESUME)
    assert receive_type(on_second, "removed")["id"] == rude_id, "The worker did not pass on the removal it missed."


def test_with_the_cheeps_in_redis_every_worker_stores_and_reads_the_same_ones(workers_sharing_redis_storage):
    """With the cheeps in Redis, every worker stores and reads the same ones."""
    first, second = workers_sharing_redis_storage
    on_second = second.connect()
    texts = [unique("one"), unique("two")]
    post_json(first, "Ada", texts[0])
    send_cheep(second.connect(), "Bo", texts[1])
    assert sorted(cheeps_arriving(on_second, 1)) == sorted(texts)
    for worker in (first, second):
        stored = cheeps_since(worker, 0)
        assert [(c["id"], c["cheep"]) for c in stored] == [(1, texts[0]), (2, texts[1])]
        assert texts[0] in requests.get(worker.url + "/").text


def test_with_the_cheeps_in_redis_one_key_sent_to_two_workers_at_the_same_moment_is_stored_once(
    workers_sharing_redis_storage,
):
    """With the cheeps in Redis, one key sent to two workers at the same moment is stored once."""
    assert_each_key_stored_once_when_raced(workers_sharing_redis_storage)


def test_a_cheep_sent_again_to_another_worker_is_stored_once_with_the_same_id(two_workers):
    """A cheep sent again to another worker is stored once, with the same id."""
    first, second = two_workers
    key, text = new_key(), unique("sent again elsewhere")
    send_cheep(first.connect(), "Ada", text, key)  # its answer is never read: the page lost it
    assert wait_until(lambda: text in [c["cheep"] for c in cheeps_since(first, 0)])
    again = second.connect()  # the page reconnected, and nginx chose the other worker
    send_cheep(again, "Ada", text, key)
    answer = receive_json(again)
    assert (answer["cheep"], answer["key"]) == (text, key)
    assert [cheep["id"] for cheep in stored_with(second, text)] == [answer["id"]]


def test_with_the_cheeps_in_redis_a_cheep_sent_while_it_is_away_is_refused_with_a_reason(
    workers_sharing_redis_storage, redis_server
):
    """With the cheeps in Redis, a cheep sent while Redis is away is refused with a reason."""
    first, _ = workers_sharing_redis_storage
    page = first.connect()
    redis_server.stop()
    send_cheep(page, "Ada", unique())
    assert receive_json(page) == {
        "type": "error",
        "message": "Cheeper cannot reach its storage just now: try again in a moment. Nothing was stored.",
        "retry": True,
    }
    response = post_json(first, "Ada", "hello")
    assert response.status_code == 503 and "cannot reach its storage" in response.json()["message"]
    assert requests.get(first.url + "/").status_code == 503
    redis_server.start()
    later = unique()
    send_cheep(page, "Ada", later)
    assert gets(page, later), "After Redis came back, the same socket could not cheep."


@pytest.mark.skipif(os.name != "posix", reason="gunicorn runs on Linux and macOS only.")
def test_under_gunicorn_every_page_gets_every_cheep_once_and_1001_when_it_stops(start_server, redis_server):
    """Under gunicorn, every page gets every cheep once, and 1001 when it stops."""
    # No pings: on a slow day this test outlasts the first one (20 s), and a page that
    # answers a ping after its worker has gone is reset, losing the close frame unread.
    settings = {"WORKERS": "2", "CHEEPER_REDIS_URL": redis_server.url, "CHEEPER_PING_SECONDS": "3600"}
    server = start_server(kind=Gunicorn, env=settings)
    pages = [server.connect() for _ in range(2)]
    workers = server.workers()
    # Which worker accepts a connection is up to the operating system: open more
    # until both hold some.
    while not all(holds_pages(worker, server.port) for worker in workers):
        assert len(pages) < 200, "gunicorn gave every connection to one worker."
        pages.append(server.connect())
    texts = [unique(f"from page {n}") for n in range(len(pages))]
    for page, text in zip(pages, texts):
        send_cheep(page, "Ada", text)
    for page in pages:
        assert sorted(cheeps_arriving(page, 1)) == sorted(texts)
    sockets = list(server.sockets)
    server.stop(close_sockets=False, how=signal.SIGTERM)
    assert {receive_close(page)[0] for page in sockets} == {1001}


@pytest.mark.skipif(os.name != "posix", reason="gunicorn runs on Linux and macOS only.")
def test_under_gunicorn_the_one_link_printed_makes_the_instructor_on_every_worker(start_server, redis_server):
    """Under gunicorn, the one link printed makes the instructor on every worker."""
    server = start_server(kind=Gunicorn, env={"WORKERS": "2", "CHEEPER_REDIS_URL": redis_server.url})
    assert wait_until(lambda: "/instructor?key=" in server.output())
    assert server.output().count("/instructor?key=") == 1
    instructor = Instructor(server)
    instructor.http.close()  # its connection would count as a page on the worker that holds it
    workers = server.workers()
    pages = []
    while not all(holds_pages(worker, server.port) for worker in workers):
        assert len(pages) < 200, "gunicorn gave every connection to one worker."
        pages.append(instructor.connect())
    assert len(pages) >= 2
    for page in pages:  # on either worker, the instructor's: told the cheep is not there, not "only the instructor"
        page.send(json.dumps({"type": "remove", "id": 2**40}))
        assert "no such cheep" in receive_type(page, "error")["message"]


def test_gunicorn_with_several_workers_and_no_redis_says_what_to_set(start_server):
    """Gunicorn with several workers and no Redis says what to set."""
    server = start_server(kind=Gunicorn, env={"WORKERS": "2"}, wait=False)
    assert "CHEEPER_REDIS_URL=redis://localhost:6379/0" in server.wait_for_exit()


def test_through_nginx_pages_on_two_workers_get_each_others_cheeps(two_workers, start_nginx):
    """Through nginx, pages on two workers get each other's cheeps."""
    nginx = start_nginx(two_workers)
    # nginx takes turns between the workers: these four pages are two on each.
    pages = [page_through(nginx) for _ in range(4)]
    try:
        texts = [unique(f"via nginx {n}") for n in range(4)]
        for page, text in zip(pages, texts):
            send_cheep(page, "Ada", text)
        for page in pages:
            assert sorted(cheeps_arriving(page, 1)) == sorted(texts)
        assert texts[0] in requests.get(nginx.url + "/").text
    finally:
        for page in pages:
            page.close()


def test_through_nginx_the_instructor_removes_a_cheep_from_the_pages_on_both_workers(two_workers, start_nginx):
    """Through nginx, the instructor removes a cheep from the pages on both workers."""
    nginx = start_nginx(two_workers)
    key = instructor_link(two_workers[0]).split("key=")[1]
    instructor = Instructor(nginx, link=f"{nginx.url}/instructor?key={key}")
    pages = [page_through(nginx) for _ in range(4)]  # two on each worker: nginx takes turns
    try:
        rude_id = post_json(nginx, "Troll", unique("rude")).json()["id"]
        assert instructor.act({"type": "remove", "id": rude_id}).status_code == 200
        for page in pages:
            assert receive_type(page, "removed")["id"] == rude_id
        assert requests.post(nginx.url + "/api/instructor", json={"type": "start-afresh"}).status_code == 403
        log = nginx.access_log.read_text()
        assert "POST /api/instructor" in log and key not in log, "The key is in nginx's log."
    finally:
        for page in pages:
            page.close()


def ask_often(nginx, times=30):
    """GET /api/cheeps `times` times, one after another on one connection: the statuses."""
    with requests.Session() as session:
        return [session.get(nginx.url + "/api/cheeps", params={"since": 10**9}).status_code for _ in range(times)]


def test_nginx_in_front_refuses_one_person_past_30_connections_or_a_flood_of_requests_with_429(
    start_server, start_nginx, tmp_path
):
    """nginx in front refuses one person past 30 connections, or a flood of requests, with 429."""
    # Each worker allows a person 20 sockets: two allow 40. nginx counts for both.
    workers = [start_server(database=tmp_path / f"{n}.db", env=PEOPLE_BEHIND_A_PROXY) for n in range(2)]
    nginx = start_nginx(workers)
    pages = [page_through(nginx) for _ in range(30)]
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        page_through(nginx)
    assert refused.value.status_code == 429
    assert b"Too many requests or connections from your address" in refused.value.resp_body
    for page in pages:
        page.close()

    started = time.monotonic()
    # Ten at once: one after another, a busy machine may ask fewer than 20 times a second.
    with ThreadPoolExecutor(10) as pool:
        statuses = [status for some in pool.map(ask_often, [nginx] * 10) for status in some]
    allowed = 100 + 20 * (time.monotonic() - started)  # 100 at once, then 20 a second
    assert set(statuses) == {200, 429}
    assert statuses.count(200) <= allowed + 1, f"nginx let {statuses.count(200)} of 300 requests through."
