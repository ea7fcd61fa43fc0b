"""The promises of the rooms exercise (docs/going-further-rooms.md), on top of every
promise of the solution: a room's page at /r/<room>, with its own socket, catch-up
and POST; / stays the room everyone shares; a cheep reaches the pages of its room
and no others, on one worker and across workers through Redis; and a cheeps.db
(or a Redis) filled by the solution keeps every cheep, in the shared room.

The tests with two workers, or with the cheeps in Redis, need redis-server: without
it they skip, with one line saying so (and fail in CI).
"""

import uuid

import pytest
import requests
import websocket

from app_client import (
    Instructor,
    cheeps_since,
    get_page,
    new_key,
    pages_of,
    post_json,
    receive_json,
    receive_type,
    send_cheep,
    unique,
    wait_until,
)
from server_process import ServerProcess

# The fixtures of two workers sharing a Redis, with the cheeps in SQLite or in Redis.
from test_solution_many_workers import (  # noqa: F401
    two_workers,
    workers_sharing_redis_storage,
    workers_with_either_storage,
)
from waits import RESUME, WAIT
from workshop.stages import ROOT

pytestmark = pytest.mark.stage("rooms")

SOLUTION = ROOT / "solution"  # the stage the exercise starts from: the cheeps it stored must stay


def new_room():
    """A room no other test uses."""
    return f"room-{uuid.uuid4().hex[:8]}"


def room_cheeps(server, room):
    """Every cheep of a room, oldest first, as its catch-up gives them (page after page)."""
    return [cheep for page in pages_of(server, f"/r/{room}/api/cheeps?since=0&limit=200") for cheep in page]


def texts(cheeps):
    return [cheep["cheep"] for cheep in cheeps]


def post_to_room(server, room, name, cheep, key=None):
    """POST a cheep to a room's address as JSON, as a script does."""
    return post_json(server, name, cheep, key, address=f"/r/{room}")


def curl_d(server, address, text):
    """POST text as curl -d 'text' does: a body that says it is a form, and holds no field."""
    return requests.post(
        server.url + address, data=text.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


def next_cheep(client, where):
    """The next cheep on a socket; say so plainly when none comes."""
    try:
        return receive_type(client, "cheep")
    except websocket.WebSocketTimeoutException:
        raise AssertionError(f"No cheep arrived on {where} within {WAIT} seconds.") from None


def refusal(server, path, **options):
    """How the server refuses a socket at path: (status, the reason it gives); None when it opens."""
    try:
        server.connect(path, **options)
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code, refused.resp_body.decode("utf-8", "replace").strip()
    return None


def assert_only_its_own(clients, server):
    """Each client (a socket in some room, "" for the shared room) must get its own
    room's next cheep first: a cheep of another room sent before would come first."""
    for room, client in clients.items():
        marker = unique("marker")
        response = post_to_room(server, room, "Marker", marker) if room else post_json(server, "Marker", marker)
        assert response.status_code == 201, response.text
        seen = next_cheep(client, f"a page of {room or 'the shared room'}")
        assert seen["cheep"] == marker, (
            f"A page of {room or 'the shared room'} got a cheep of another room: {seen['cheep']!r}"
            f" (room {seen.get('room', 'shared')!r})."
        )


def test_a_cheep_reaches_only_the_pages_of_its_room(server, connect):
    """A cheep reaches only the pages of its room."""
    room, other = new_room(), new_room()
    senders, readers = connect(f"/r/{room}/ws"), connect(f"/r/{room}/ws")
    elsewhere = {other: connect(f"/r/{other}/ws"), "": connect("/ws")}
    text = unique("in a room")
    send_cheep(senders, "Ada", text)
    for client in (senders, readers):
        seen = next_cheep(client, f"a page of room {room}")
        assert (seen["cheep"], seen.get("room")) == (text, room), f"A page of the room got {seen}."
    assert_only_its_own(elsewhere, server)


def test_a_room_takes_a_cheep_as_a_form_as_json_and_as_plain_text_like_curl_d(server):
    """A room takes a cheep as a form, as JSON, and as plain text (like curl -d)."""
    room = new_room()
    form, as_json, plain = unique("form"), unique("json"), unique("curl")
    response = requests.post(f"{server.url}/r/{room}", data={"name": "Ada", "cheep": form}, allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/r/{room}"), (
        f"The form's POST answered {response.status_code}, to {response.headers.get('Location')}: "
        f"it should lead back to /r/{room} with 303."
    )
    assert post_to_room(server, room, "Bo", as_json).status_code == 201
    response = curl_d(server, f"/r/{room}", plain)
    assert response.status_code == 201, f"curl -d 'text' answered {response.status_code}: {response.text[:200]}"
    assert (response.json()["name"], response.json()["cheep"]) == ("Anonymous", plain)
    assert texts(room_cheeps(server, room)) == [form, as_json, plain]
    page = get_page(server, f"/r/{room}").get_text()
    assert all(text in page for text in (form, as_json, plain)), "The room's page does not show its cheeps."
    assert not {form, as_json, plain} & set(texts(cheeps_since(server, 0))), "A room's cheep is in the shared room."
    assert form not in get_page(server, "/").get_text(), "A room's cheep is on the shared room's page."


def test_the_shared_room_keeps_every_old_address_and_its_cheeps_stay_out_of_the_rooms(server, connect):
    """The shared room keeps every old address, and its cheeps stay out of the rooms."""
    room = new_room()
    in_room, shared = connect(f"/r/{room}/ws"), connect("/ws")
    text = unique("shared")
    assert post_json(server, "Ada", text).status_code == 201  # /api/cheep, as before rooms
    seen = next_cheep(shared, "/ws")
    assert seen["cheep"] == text and "room" not in seen, f"The shared room's cheep came as {seen}."
    plain = unique("plain")
    assert curl_d(server, "/", plain).status_code == 201, "curl -d 'text' to / stored nothing."
    assert next_cheep(shared, "/ws")["cheep"] == plain
    assert texts(cheeps_since(server, 0))[-2:] == [text, plain]
    assert room_cheeps(server, room) == []
    assert_only_its_own({room: in_room}, server)


def test_the_catch_up_of_a_room_stays_in_the_room_page_after_page(server):
    """The catch-up of a room stays in the room, page after page."""
    room = new_room()
    posted = [unique(f"page {n}") for n in range(5)]
    for text in posted:
        post_to_room(server, room, "Ada", text)
        post_json(server, "Bo", unique("between"))  # the shared room's, in between
    pages = pages_of(server, f"/r/{room}/api/cheeps?since=0&limit=2")
    assert [texts(page) for page in pages] == [posted[0:2], posted[2:4], posted[4:]], (
        f"The room's catch-up, page by page, read {[texts(page) for page in pages]}."
    )
    newest = pages_of(server, f"/r/{room}/api/cheeps?limit=3")
    assert [texts(page) for page in newest] == [posted[:1:-1], posted[1::-1]]


ROOMS_AGAINST_THE_RULES = ["Python", "a_b", "x" * 31, "caf%C3%A9", "a.b", "%20"]


@pytest.mark.parametrize("name", ROOMS_AGAINST_THE_RULES)
def test_a_room_name_against_the_rules_is_refused_with_a_reason(server, name):
    """A room name against the rules is refused with a reason."""
    page = requests.get(f"{server.url}/r/{name}")
    assert 400 <= page.status_code < 500 and "lowercase" in page.text, (
        f"/r/{name} answered {page.status_code}: {page.text[:200]!r}"
    )
    posted = post_to_room(server, name, "Ada", "hi")
    assert 400 <= posted.status_code < 500 and "lowercase" in posted.json()["message"], (
        f"A POST to /r/{name} answered {posted.status_code}: {posted.text[:200]!r}"
    )
    refused = refusal(server, f"/r/{name}/ws")
    assert refused and 400 <= refused[0] < 500 and "lowercase" in refused[1], (
        f"A socket to /r/{name}/ws was not refused before its handshake with a 4xx and the rule: {refused}"
    )


def test_a_trailing_slash_leads_back_to_the_room_and_there_are_no_sub_rooms(server):
    """A trailing slash leads back to the room, and there are no sub-rooms."""
    room = new_room()
    slash = requests.get(f"{server.url}/r/{room}/", allow_redirects=False)
    assert slash.status_code in (301, 308) and slash.headers["Location"].endswith(f"/r/{room}"), (
        f"/r/{room}/ answered {slash.status_code}, to {slash.headers.get('Location')}."
    )
    deeper = requests.get(f"{server.url}/r/{room}/web")
    assert deeper.status_code == 404 and "sub-rooms" in deeper.text, (
        f"/r/{room}/web answered {deeper.status_code}: {deeper.text[:200]!r}"
    )


def test_every_page_links_to_the_rooms_in_use_with_their_cheep_counts(server):
    """Every page links to the rooms in use, with their cheep counts."""
    room = new_room()
    for n in range(3):
        post_to_room(server, room, "Ada", unique(f"count {n}"))
    for address in ("/", f"/r/{room}"):
        assert get_page(server, address).select('a[href="/rooms"]'), f"The page at {address} has no link to /rooms."
    rooms = get_page(server, "/rooms")
    link = rooms.select_one(f'a[href="/r/{room}"]')
    assert link, f"/rooms has no link to /r/{room}: it reads {rooms.get_text(' ', strip=True)[:300]!r}"
    assert "3 cheeps" in link.parent.get_text(), f"/rooms says {link.parent.get_text(' ', strip=True)!r}."
    assert rooms.select_one('a[href="/"]'), "/rooms does not link to the shared room."


def test_the_socket_of_a_room_keeps_every_check_of_the_solution_before_the_handshake(server):
    """The socket of a room makes every check the solution makes before the handshake."""
    room = new_room()
    refused = refusal(server, f"/r/{room}/ws", origin="http://elsewhere.example")
    assert refused and refused[0] == 403, f"Another site's page opened a room's socket, or it was refused so: {refused}"
    page = server.connect(f"/r/{room}/ws", origin=server.url)
    page.send("not json")
    assert receive_json(page)["type"] == "error", "A room's socket did not answer a bad message with an error."


def test_a_key_is_stored_once_in_a_room_and_a_cheep_of_another_room_cannot_reuse_it(server, connect):
    """A key is stored once in a room, and a cheep of another room cannot reuse it."""
    room, other = new_room(), new_room()
    key, text = new_key(), unique("keyed")
    ids = [post_to_room(server, room, "Ada", text, key).json()["id"] for _ in range(2)]
    client = connect(f"/r/{room}/ws")
    send_cheep(client, "Ada", text, key)  # sent again on a socket, as a page that lost its answer
    assert next_cheep(client, "the sender's socket")["id"] == ids[0]
    assert ids[0] == ids[1] and texts(room_cheeps(server, room)) == [text], "A key was stored twice in a room."
    reused = post_to_room(server, other, "Ada", text, key)
    assert reused.status_code == 422, f"The same key in another room answered {reused.status_code}: {reused.text}"
    assert room_cheeps(server, other) == []


def test_the_cheeps_and_keys_of_a_room_survive_a_restart(start_server):
    """The cheeps and keys of a room survive a restart."""
    server = start_server()
    room, key, text = new_room(), new_key(), unique("before the restart")
    first = post_to_room(server, room, "Ada", text, key).json()
    server.restart()
    assert room_cheeps(server, room) == [first], "The room lost its cheep in a restart."
    again = post_to_room(server, room, "Ada", text, key)
    assert again.json()["id"] == first["id"] and len(room_cheeps(server, room)) == 1


def fill_with_the_solution(storage_settings, database):
    """Run the solution (the exercise's base) on this storage, store cheeps in every way it
    can, stop it; return what its catch-up gave, and the key of one of them."""
    old = ServerProcess(SOLUTION, database, env=storage_settings).start()
    try:
        key = new_key()
        post_json(old, "Ada", unique("with a key"), key)
        requests.post(old.url + "/api/cheep", data={"name": "Bo", "cheep": unique("from the form")})
        send_cheep(old.connect(), "Cy", unique("on the socket"))
        assert wait_until(lambda: len(cheeps_since(old, 0)) == 3)
        gone = post_json(old, "Troll", unique("removed")).json()["id"]
        assert Instructor(old).act({"type": "remove", "id": gone}).status_code == 200
        return cheeps_since(old, 0), key
    finally:
        old.kill()


def assert_every_old_cheep_is_in_the_shared_room(server, before, key):
    after = cheeps_since(server, 0)
    lost = [cheep["cheep"] for cheep in before if cheep not in after]
    assert not lost and after == before, (
        f"Of the {len(before)} cheeps the solution stored, the shared room lost {lost or 'none'}, "
        f"and its catch-up reads {texts(after)}."
    )
    page = get_page(server, "/").get_text()
    lost = [cheep["cheep"] for cheep in before if cheep["cheep"] not in page]
    assert not lost, f"The page at / no longer shows the old cheeps {lost}."
    again = post_json(server, "Ada", before[0]["cheep"], key)
    assert again.json()["id"] == before[0]["id"], "An old cheep's key was forgotten: sent again, it was stored again."
    assert post_to_room(server, new_room(), "Ada", unique("new")).status_code == 201


def test_a_cheeps_db_made_by_the_solution_keeps_every_cheep_in_the_shared_room(start_server, tmp_path):
    """A cheeps.db made by the solution keeps every cheep, in the shared room."""
    database = tmp_path / "from-the-solution.db"
    before, key = fill_with_the_solution({}, database)
    server = start_server(database=database)
    assert_every_old_cheep_is_in_the_shared_room(server, before, key)
    server.restart()  # the column is there now: a second start must not add it again
    assert cheeps_since(server, 0)[: len(before)] == before


def test_cheeps_kept_in_redis_by_the_solution_stay_in_the_shared_room(start_server, redis_server, tmp_path):
    """Cheeps kept in Redis by the solution stay in the shared room."""
    before, key = fill_with_the_solution({"CHEEPER_DB": redis_server.url}, tmp_path / "unused.db")
    server = start_server(env={"CHEEPER_DB": redis_server.url})
    assert_every_old_cheep_is_in_the_shared_room(server, before, key)


def test_rooms_work_the_same_with_the_cheeps_in_redis(start_server, redis_server):
    """Rooms work the same with the cheeps in Redis."""
    server = start_server(env={"CHEEPER_DB": redis_server.url})
    room, other = new_room(), new_room()
    page, shared = server.connect(f"/r/{room}/ws"), server.connect("/ws")
    form, as_json, plain, key = unique("form"), unique("json"), unique("curl"), new_key()
    response = requests.post(f"{server.url}/r/{room}", data={"name": "Ada", "cheep": form}, allow_redirects=False)
    assert response.status_code == 303, f"On Redis storage, the form's POST to a room answered {response.status_code}."
    for _ in range(2):
        response = post_to_room(server, room, "Bo", as_json, key)
        assert response.status_code == 201, f"On Redis storage, a JSON POST to a room answered {response.status_code}."
    assert curl_d(server, f"/r/{room}", plain).status_code == 201
    assert [next_cheep(page, "the room's page")["cheep"] for _ in range(3)] == [form, as_json, plain]
    assert texts(room_cheeps(server, room)) == [form, as_json, plain]
    assert cheeps_since(server, 0) == [] and room_cheeps(server, other) == []
    assert form in get_page(server, f"/r/{room}").get_text()
    assert_only_its_own({"": shared, other: server.connect(f"/r/{other}/ws")}, server)


def test_across_two_workers_a_cheep_reaches_only_the_pages_of_its_room_once(workers_with_either_storage):
    """Across two workers, a cheep reaches only the pages of its room, once."""
    first, second = workers_with_either_storage
    room, other = new_room(), new_room()
    here, there = first.connect(f"/r/{room}/ws"), second.connect(f"/r/{room}/ws")
    elsewhere = {other: second.connect(f"/r/{other}/ws"), "": second.connect("/ws")}
    text = unique("across workers")
    send_cheep(here, "Ada", text)
    for client, where in ((here, "the first worker"), (there, "the second worker")):
        seen = next_cheep(client, f"the room's page on {where}")
        assert (seen["cheep"], seen.get("room")) == (text, room), f"The room's page on {where} got {seen}."
    assert_only_its_own(elsewhere, second)  # the markers go to the second worker: its pages get nothing else first
    assert_only_its_own({room: there}, first)  # nor the cheep a second time


def test_a_worker_that_missed_a_cheep_of_a_room_catches_up_into_that_room_only(two_workers, redis_server):
    """A worker that missed a cheep of a room catches up on it, into that room only."""
    first, second = two_workers
    room, other = new_room(), new_room()
    on_second = {room: second.connect(f"/r/{room}/ws"), other: second.connect(f"/r/{other}/ws")}
    # Redis drops the subscriptions and refuses new ones for a while: published, and nobody hears.
    redis_server.client.execute_command("ACL SETUSER default -subscribe")
    redis_server.client.client_kill_filter(_type="pubsub")
    assert wait_until(lambda: "Lost Redis" in second.output()), "The worker did not notice it lost Redis."
    unheard = unique("published while nobody listened")
    assert post_to_room(first, room, "Ada", unheard).status_code == 201
    redis_server.client.execute_command("ACL SETUSER default +subscribe")
    on_second[room].settimeout(RESUME)
    assert next_cheep(on_second[room], "the room's page on the second worker")["cheep"] == unheard, (
        "The second worker did not catch up on the room's cheep it missed."
    )
    on_second[room].settimeout(WAIT)
    assert_only_its_own(on_second, second)
