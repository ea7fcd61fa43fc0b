"""The solution's promise that a cheep sent again is not stored again: each cheep
carries a key its page made, the server stores a key once, and the stored cheep
goes back to its sender as the acknowledgement. Cheeps without a key work as before."""

import json

import pytest
import requests
import websocket

from app_client import (
    ONE_PERSON_PER_ADDRESS,
    assert_each_key_stored_once_when_raced,
    cheeps_since,
    get_page,
    new_key,
    newest_id,
    post_cheep,
    post_json,
    receive_json,
    send_cheep,
    stored_with,
    unique,
    wait_until,
)
from server_process import ServerProcess
from waits import QUIET, WAIT
from workshop.stages import ROOT

pytestmark = pytest.mark.stage("solution")


def nothing_arrives(client, seconds=QUIET):
    """Whether no message arrives on the client within `seconds` (one of a type the
    lesson never sends, an extension's, is skipped as receive_json skips it)."""
    client.settimeout(seconds)
    try:
        receive_json(client)
        return False
    except websocket.WebSocketTimeoutException:
        return True
    finally:
        client.settimeout(WAIT)


def test_a_cheep_sent_twice_with_one_key_is_stored_once_and_its_sender_hears_the_same_id(server, connect):
    """A cheep sent twice with one key is stored once, and its sender hears the same id."""
    sender, bystander = connect(), connect()
    key, text = new_key(), unique("twice")
    send_cheep(sender, "Ada", text, key)
    first = receive_json(sender)
    assert (first["type"], first["cheep"], first["key"]) == ("cheep", text, key), (
        "The stored cheep goes back to its sender with its key: that is its acknowledgement."
    )
    assert receive_json(bystander) == first
    send_cheep(sender, "Ada", text, key)  # as a page does after a reconnect
    assert receive_json(sender) == first, "A cheep sent again was not answered with the stored one."
    assert nothing_arrives(bystander), "A cheep sent again was broadcast again."
    assert stored_with(server, text) == [first]


def test_a_cheep_sent_again_on_a_new_socket_is_stored_once(server, connect):
    """A cheep sent again on a new socket is stored once."""
    key, text = new_key(), unique("new socket")
    first_socket = connect()
    send_cheep(first_socket, "Ada", text, key)
    stored = receive_json(first_socket)
    first_socket.close()
    again = connect()
    send_cheep(again, "Ada", text, key)
    assert receive_json(again) == stored
    assert stored_with(server, text) == [stored]


def test_a_posted_cheep_with_an_idempotency_key_is_stored_once(server, connect):
    """A posted cheep with an Idempotency-Key is stored once."""
    page = connect()
    key, text = new_key(), unique("posted twice")
    answers = [post_json(server, "Ada", text, key) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["key"] == key
    assert receive_json(page)["cheep"] == text
    assert nothing_arrives(page), "A repeated POST was broadcast again."
    assert len(stored_with(server, text)) == 1


def form_key(server):
    """The key in the form of a page just loaded."""
    field = get_page(server).select_one("#cheep-form input[type=hidden][name=key]")
    assert field is not None, "The form has no hidden field named key."
    return field["value"]


def test_the_form_carries_a_new_key_with_each_page_so_a_double_submit_stores_one_cheep(server):
    """The form carries a new key with each page, so a double submit stores one cheep."""
    key = form_key(server)
    assert form_key(server) != key, "Each page should carry a key of its own in its form."
    text = unique("double click")
    for _ in range(2):  # a double click, or the form sent again from the browser's history
        answer = requests.post(
            server.url + "/api/cheep", data={"name": "Ada", "cheep": text, "key": key}, allow_redirects=False
        )
        assert answer.status_code == 303
    assert len(stored_with(server, text)) == 1


def test_a_key_that_came_with_another_cheep_is_refused_with_a_reason(server, connect):
    """A key that came with another cheep is refused with a reason."""
    sender = connect()
    key = new_key()
    send_cheep(sender, "Ada", unique("first"), key)
    receive_json(sender)
    before = newest_id(server)
    send_cheep(sender, "Ada", unique("another"), key)
    error = receive_json(sender)
    assert error["type"] == "error" and error["key"] == key and "key" in error["message"]
    answer = post_json(server, "Ada", unique("another"), key)
    assert answer.status_code == 422 and "key" in answer.json()["message"]
    assert cheeps_since(server, before) == []


BAD_KEYS = {
    "too short": "abc",
    "too long": "k" * 65,
    "a space in it": "a key with spaces in it",
    "markup": "<script>alert(1)</script>",
    "a number": 1234567890123456789,
    "null": None,
    "a list": ["0123456789abcdef"],
}


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_key_that_is_not_a_short_string_of_safe_characters_is_refused(server, connect, key):
    """A key that is not a short string of safe characters is refused."""
    sender, bystander = connect(), connect()
    before = newest_id(server)
    sender.send(json.dumps({"type": "cheep", "name": "Ada", "cheep": "hello", "key": key}))
    error = receive_json(sender)
    assert error["type"] == "error" and '"key"' in error["message"]
    if isinstance(key, str):  # a form field and a header are always strings
        answer = requests.post(server.url + "/api/cheep", data={"name": "Ada", "cheep": "hello", "key": key})
        assert answer.status_code == 400 and '"key"' in answer.json()["message"]
        answer = post_json(server, "Ada", "hello", key)
        assert answer.status_code == 400 and '"Idempotency-Key"' in answer.json()["message"]
    assert cheeps_since(server, before) == []
    assert nothing_arrives(bystander)
    text = unique()
    send_cheep(sender, "Ada", text)  # the socket stays open
    assert receive_json(sender)["cheep"] == text


def test_a_refused_cheep_names_its_key_so_the_page_knows_which(connect):
    """A refused cheep names its key, so that the page knows which cheep it was."""
    sender = connect()
    key = new_key()
    send_cheep(sender, "Ada", "c" * 77, key)
    error = receive_json(sender)
    assert error == {"type": "error", "message": '"cheep" must be 1 to 76 characters long.', "key": key}


def test_a_refusal_for_now_only_says_retry_so_that_the_page_sends_the_cheep_again(start_server):
    """A refusal that holds only for now says "retry", so that the page sends the cheep again."""
    sender = start_server(env=ONE_PERSON_PER_ADDRESS).connect()
    keys = [new_key() for _ in range(30)]  # 10 may go at once, then 5 a second
    for key in keys:
        send_cheep(sender, "Ada", unique("burst"), key)
    answers = [receive_json(sender) for _ in keys]
    refused = [answer for answer in answers if answer["type"] == "error"]
    assert refused, "The burst was never too fast."
    assert all(answer["retry"] is True and answer["key"] in keys for answer in refused)
    assert all("retry" not in answer for answer in answers if answer["type"] == "cheep")


def test_a_key_in_a_json_body_counts_as_on_the_socket(server):
    """A key in a JSON body counts as it does on the socket."""
    cheep = {"name": "Ada", "cheep": unique("key in the body"), "key": new_key()}
    answers = [requests.post(server.url + "/api/cheep", json=cheep) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [201, 201]
    assert len(stored_with(server, cheep["cheep"])) == 1


def test_the_page_is_never_kept_in_the_browsers_cache_so_back_brings_a_fresh_key(server):
    """The page is never kept in the browser's cache, so Back brings a fresh key."""
    assert requests.get(server.url + "/").headers["Cache-Control"] == "no-store"


def test_a_ping_gets_a_pong_on_its_own_socket_only(connect):
    """A ping gets a pong, on its own socket only."""
    pinger, bystander = connect(), connect()
    pinger.send(json.dumps({"type": "ping"}))
    assert receive_json(pinger) == {"type": "pong"}
    assert nothing_arrives(bystander)


def test_a_cheep_stored_whose_answer_never_arrived_is_stored_once_when_sent_after_a_kill(start_server):
    """A cheep stored whose answer never arrived is stored once when sent again after a kill."""
    server = start_server()
    key, text = new_key(), unique("answer lost")
    gone = server.connect()
    send_cheep(gone, "Ada", text, key)
    gone.sock.close()  # never reads the answer: as if the network had died
    assert wait_until(lambda: stored_with(server, text)), "The cheep was never stored."
    server.crash()
    server.start()
    page = server.connect()
    send_cheep(page, "Ada", text, key)  # the page never heard back, so it sends again
    answer = receive_json(page)
    assert (answer["cheep"], answer["key"]) == (text, key)
    assert stored_with(server, text) == [answer]


def test_a_cheeps_db_from_before_keys_keeps_every_cheep_and_gains_keys(start_server, tmp_path):
    """A cheeps.db from before keys keeps every cheep and gains keys."""
    database = tmp_path / "from-step-2.db"
    old = ServerProcess(ROOT / "step2_client", database).start()  # the table as step 2 made it
    try:
        texts = [unique(f"old {n}") for n in range(3)]
        for text in texts:
            post_cheep(old, "Ada", text)
        before = cheeps_on_the_page(old)
    finally:
        old.kill()
    server = start_server(database=database)
    kept = cheeps_since(server, 0)
    assert [(c["id"], c["cheep"]) for c in kept] == before
    key, text = new_key(), unique("new")
    assert [post_json(server, "Grace", text, key).json()["id"] for _ in range(2)] == [kept[-1]["id"] + 1] * 2
    server.restart()  # the column is there now: a second start must not add it again
    assert len(cheeps_since(server, 0)) == 4


def cheeps_on_the_page(server):
    """(id, cheep) of every cheep on the page, oldest first: step 2 has no /api/cheeps."""
    items = get_page(server).select("#feed li")
    return [(int(item["data-id"]), item.select_one(".text").get_text()) for item in reversed(items)]


def test_two_workers_starting_together_on_a_cheeps_db_from_before_keys_both_open_it(start_server, tmp_path):
    """Two workers starting together on a cheeps.db from before keys both open it."""
    database = tmp_path / "from-step-2.db"
    old = ServerProcess(ROOT / "step2_client", database).start()
    try:
        post_cheep(old, "Ada", unique("old"))
    finally:
        old.kill()
    workers = [start_server(database=database, wait=False) for _ in range(2)]  # at the same moment
    for worker in workers:
        worker.wait_until_ready()
    key, text = new_key(), unique("after")
    assert [post_json(worker, "Ada", text, key).status_code for worker in workers] == [201, 201]
    assert len(stored_with(workers[0], text)) == 1


def test_two_workers_storing_one_key_at_the_same_moment_store_one_cheep(start_server, tmp_path):
    """Two workers storing one key at the same moment store one cheep."""
    workers = [start_server(database=tmp_path / "shared.db") for _ in range(2)]
    assert_each_key_stored_once_when_raced(workers)
