"""The long-polling exercise's promises over HTTP (docs/going-further-long-polling.md):
GET /api/cheeps?since=<id>&wait=1 answers at once when a newer cheep is stored,
waits otherwise and answers as soon as one is (posted, or sent on a socket, or
stored by another worker), and answers an empty list when none comes in time.
Waiting requests count with the sockets against the limit for one address.

The servers here wait CHEEPER_WAIT_SECONDS=2 seconds, not the 25 a page waits.
"""

import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest
import requests
import websocket

from app_client import (
    ONE_PERSON_PER_ADDRESS,
    new_key,
    newest_id,
    post_json,
    receive_json,
    send_cheep,
    unique,
    wait_until,
)

pytestmark = pytest.mark.stage("long-polling")

WAITS = 2  # seconds: how long a waiting GET waits for a cheep on these servers
SERVER_SETTINGS = {"CHEEPER_WAIT_SECONDS": str(WAITS)}
QUICK = 1  # seconds: an answer that is there already, or a cheep just stored, comes within this


def wait_for_cheeps(server, since, **options):
    """GET /api/cheeps?since=<since>&wait=1; the response, and the seconds it took."""
    started = time.monotonic()
    response = requests.get(
        server.url + "/api/cheeps", params={"since": since, "wait": 1}, timeout=WAITS + 10, **options
    )
    return response, time.monotonic() - started


def texts_in(response):
    assert response.status_code == 200, f"The waiting GET was answered {response.status_code}: {response.text!r}."
    return [cheep["cheep"] for cheep in response.json()]


def test_a_waiting_get_answers_at_once_when_a_newer_cheep_is_stored(server):
    """A waiting GET answers at once when a newer cheep is stored already."""
    text = unique("stored already")
    stored = post_json(server, "Ada", text).json()
    response, seconds = wait_for_cheeps(server, stored["id"] - 1)
    assert texts_in(response) == [text], (
        f"Asked for the cheeps after {stored['id'] - 1}, the page got {response.text!r}."
    )
    assert seconds < QUICK, f"The cheep was stored already, and the waiting GET took {seconds:.1f} s to answer."


@pytest.mark.parametrize("sent_by", ["POST", "socket"])
def test_a_waiting_get_answers_as_soon_as_a_cheep_is_sent(server, connect, sent_by):
    """A waiting GET answers as soon as a cheep is sent."""
    since, text = newest_id(server), unique(f"sent by {sent_by}")
    with ThreadPoolExecutor(1) as background:
        waiting = background.submit(wait_for_cheeps, server, since)
        # Still waiting a moment later: nothing newer than `since` is stored yet.
        assert not wait_until(waiting.done, 0.5), f"The GET did not wait: it answered {waiting.result()[0].text!r}."
        sent = time.monotonic()
        if sent_by == "POST":
            assert post_json(server, "Ada", text).status_code == 201
        else:
            client = connect()
            send_cheep(client, "Ada", text, new_key())
            receive_json(client)  # stored, and sent to the pages
        response, _ = waiting.result()
        took = time.monotonic() - sent
    assert texts_in(response) == [text], f"After a cheep was sent by {sent_by}, the waiting GET got {response.text!r}."
    assert took < QUICK, f"The waiting GET answered {took:.1f} s after the cheep was sent by {sent_by}."


def test_a_waiting_get_answers_an_empty_list_when_no_cheep_comes_in_time(server):
    """A waiting GET answers an empty list when no cheep comes in time."""
    response, seconds = wait_for_cheeps(server, newest_id(server))
    assert texts_in(response) == [], f"No cheep was sent, and the waiting GET got {response.text!r}."
    assert WAITS - 0.5 < seconds < WAITS + 3, (
        f"With CHEEPER_WAIT_SECONDS={WAITS}, the waiting GET answered after {seconds:.1f} s."
    )


@pytest.mark.parametrize("address", ["/api/cheeps?wait=1", "/api/cheeps?since=0&wait=yes"])
def test_a_wrong_wait_is_refused_with_a_reason(server, address):
    """A wrong "wait" is refused with a reason."""
    response = requests.get(server.url + address, timeout=WAITS + 10)
    assert response.status_code == 400, f"{address} was answered {response.status_code}: {response.text!r}."
    assert "wait" in response.text.lower(), f"{address} was refused without saying why: {response.text!r}."


def test_a_waiting_get_past_the_limit_of_live_pages_for_one_address_is_refused_with_a_reason(start_server):
    """A waiting GET past the limit of live pages for one address is refused with a reason."""
    server = start_server(env={**ONE_PERSON_PER_ADDRESS, "CHEEPER_SOCKETS_PER_ADDRESS": "3", **SERVER_SETTINGS})
    since = newest_id(server)
    sockets = [server.connect() for _ in range(3)]
    refused = wait_until(lambda: wait_for_cheeps(server, since)[0].status_code == 429, 3 * WAITS)
    assert refused, "With 3 sockets open from one address, and 3 allowed, a waiting GET was not refused."
    response, _ = wait_for_cheeps(server, since)
    assert "close a few" in response.text, f"A waiting GET past the limit was refused with {response.text!r}."
    sockets[0].close()  # the limit is for what is open now: one page fewer, and a page may wait
    response, _ = wait_for_cheeps(server, since)
    assert response.status_code == 200, f"With a socket closed, a waiting GET was still refused: {response.text!r}."


def test_waiting_gets_count_against_the_limit_of_sockets_for_one_address(start_server):
    """Waiting GETs count against the limit of sockets for one address."""
    server = start_server(
        env={**ONE_PERSON_PER_ADDRESS, "CHEEPER_SOCKETS_PER_ADDRESS": "2", "CHEEPER_WAIT_SECONDS": "30"}
    )
    since = newest_id(server)
    with ThreadPoolExecutor(3) as background:
        waiting = [background.submit(wait_for_cheeps, server, since) for _ in range(3)]
        # Two wait, and the third is refused at once: from then on, two are surely waiting.
        first, _ = next(as_completed(waiting)).result()
        assert first.status_code == 429, f"Three waiting GETs, 2 allowed: the first to be answered got {first.text!r}."
        try:
            server.connect()
            opened = True
        except websocket.WebSocketBadStatusException as refusal:
            opened, status = False, refusal.status_code
        post_json(server, "Ada", unique("ends the waits"))
        answered = sorted(request.result()[0].status_code for request in waiting)
    assert not opened, "With 2 waiting GETs from one address, and 2 allowed, a socket still opened."
    assert status == 429, f"The socket past the limit was refused with {status}, not 429."
    assert answered == [200, 200, 429], f"Three waiting GETs, 2 allowed, were answered {answered}."


@pytest.mark.many_workers
def test_a_waiting_get_on_one_worker_answers_when_a_cheep_is_posted_to_another(start_server, redis_server, tmp_path):
    """A waiting GET on one worker answers when a cheep is posted to another worker."""
    settings = {"CHEEPER_REDIS_URL": redis_server.url, **SERVER_SETTINGS}
    first, second = (start_server(database=tmp_path / "shared.db", env=settings) for _ in range(2))
    assert wait_until(lambda: "Sharing cheeps" in second.output(), 20), "The second worker never reached Redis."
    since, text = newest_id(first), unique("from the other worker")
    with ThreadPoolExecutor(1) as background:
        waiting = background.submit(wait_for_cheeps, second, since)
        assert not wait_until(waiting.done, 0.5), f"The GET did not wait: it answered {waiting.result()[0].text!r}."
        assert post_json(first, "Ada", text).status_code == 201
        response, seconds = waiting.result()
    assert texts_in(response) == [text], f"A cheep posted to the other worker; the waiting GET got {response.text!r}."
    assert seconds < WAITS, "The waiting GET answered only at its timeout: the worker's relay did not wake it."
