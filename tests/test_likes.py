"""Going further, likes: the promises a server keeps (docs/going-further-likes.md).

A page sends {"type": "like", "id": 7}; the server stores one like per browser and
cheep, and sends {"type": "likes", "id": 7, "count": 3} to every page. A browser
is known by the cookie that the page gave it, which its socket sends back: these
tests get one as a browser does, by loading the page.
"""

import json
import sqlite3

import pytest
import requests
import websocket

from app_client import get_page, post_cheep, unique
from waits import WAIT

pytestmark = pytest.mark.stage("likes")

NO_SUCH_CHEEP = 10**12  # an id no test's cheep reaches


def a_browser(server):
    """The cookies the page gives a new browser, as a Cookie header: its key for likes,
    whatever the app calls it. Pass it as cookie= to connect()."""
    response = requests.get(server.url + "/")
    assert response.status_code == 200, f"The page answered {response.status_code}."
    return "; ".join(f"{name}={value}" for name, value in response.cookies.items())


def new_cheep(server):
    """Post a new cheep; its id, read from the page's data-id."""
    text = unique("likeable")
    post_cheep(server, "Ada", text)
    for item in page_as(server).select("#feed li"):
        if text in item.get_text():
            return int(item["data-id"])
    raise AssertionError(f"The cheep {text!r} was posted, and the page does not show it.")


def page_as(server, cookie=""):
    """The page, as the server draws it for the browser with this cookie."""
    return get_page(server, headers={"Cookie": cookie} if cookie else {})


def shown(server, cheep_id, cookie=""):
    """(the count under a cheep, its button's aria-pressed), as the page is drawn for this cookie."""
    item = page_as(server, cookie).select_one(f'#feed li[data-id="{cheep_id}"]')
    assert item is not None, f"The page shows no cheep with data-id {cheep_id}."
    count, button = item.select_one(".likes"), item.select_one("button")
    assert count is not None, f'Cheep {cheep_id} has no element of class "likes" for its count: {item}'
    assert button is not None, f"Cheep {cheep_id} has no <button> to like it: {item}"
    return count.get_text(strip=True), button.get("aria-pressed")


def like(client, cheep_id):
    client.send(json.dumps({"type": "like", "id": cheep_id}))


def next_answer(client, after):
    """The next "likes" or "error" message on a client (cheeps are skipped);
    `after` says what it answers, for a failure's message."""
    try:
        while True:
            text = client.recv()
            assert text != "", f"The server closed the connection after {after}."
            message = json.loads(text)
            if isinstance(message, dict) and message.get("type") in ("likes", "error"):
                return message
    except websocket.WebSocketTimeoutException:
        raise AssertionError(
            f'Nothing came back within {WAIT} s of {after}: no "likes" message, and no "error".'
        ) from None
    except ValueError:
        raise AssertionError(f"After {after}, the server sent {text[:80]!r}, which is not JSON.") from None


def assert_count(message, cheep_id, count, who):
    expected = {"type": "likes", "id": cheep_id, "count": count}
    assert {key: message.get(key) for key in expected} == expected, (
        f"{who} got {json.dumps(message)}, not {json.dumps(expected)}."
    )


def test_a_like_reaches_every_page_as_the_new_count_of_its_cheep(server, connect):
    """A like reaches every page as the new count of its cheep."""
    cheep_id = new_cheep(server)
    ada, grace = connect(cookie=a_browser(server)), connect(cookie=a_browser(server))
    for count, liker in enumerate((ada, grace), start=1):
        like(liker, cheep_id)
        for who, client in (("The page that liked it", liker), ("Another page", ada if liker is grace else grace)):
            assert_count(next_answer(client, f"a like of cheep {cheep_id}"), cheep_id, count, who)


def test_one_browser_likes_a_cheep_once_however_often_it_presses(server, connect):
    """One browser likes a cheep once, however often it presses."""
    cheep_id = new_cheep(server)
    cookie = a_browser(server)
    masher = connect(cookie=cookie)
    for press in range(1, 4):
        like(masher, cheep_id)
        answer = next_answer(masher, f"press {press} of one browser's like")
        assert_count(answer, cheep_id, 1, f"After press {press} of the same browser, its page")
    # A new socket of the same browser (a reload) is still the same browser.
    again = connect(cookie=cookie)
    like(again, cheep_id)
    assert_count(
        next_answer(again, "a like from the same browser's next page"),
        cheep_id,
        1,
        "The same browser, liking again from a new page,",
    )


def test_a_bad_like_gets_an_error_and_stores_nothing(server, connect):
    """A bad like gets an error and stores nothing."""
    cheep_id = new_cheep(server)
    sender, other = connect(cookie=a_browser(server)), connect(cookie=a_browser(server))
    bad = {
        "the id of no cheep": {"type": "like", "id": NO_SUCH_CHEEP},
        "no id": {"type": "like"},
        "an id that is text": {"type": "like", "id": str(cheep_id)},
        "an id that is a fraction": {"type": "like", "id": cheep_id + 0.5},
        "an id of true": {"type": "like", "id": True},
        "an id of null": {"type": "like", "id": None},
        "an id too large for SQLite": {"type": "like", "id": 2**64},
    }
    for what, message in bad.items():
        sender.send(json.dumps(message))
        answer = next_answer(sender, f"a like with {what}")
        assert answer.get("type") == "error" and str(answer.get("message") or "").strip(), (
            f"A like with {what}, {json.dumps(message)}, got {json.dumps(answer)}, not an error saying why."
        )
    # A socket that never loaded the page has no key: it cannot like.
    stranger = connect()
    like(stranger, cheep_id)
    answer = next_answer(stranger, "a like from a socket that never loaded the page")
    assert answer.get("type") == "error", (
        f"A like with no browser's key (no cookie from the page) got {json.dumps(answer)}, not an error."
    )
    # The other page heard none of it, and none was stored: its own like is the first, and counts 1.
    like(other, cheep_id)
    assert_count(
        next_answer(other, f"a good like of cheep {cheep_id}, after the bad ones"),
        cheep_id,
        1,
        "After the bad likes, a good like from another page",
    )


def test_likes_survive_a_restart_and_each_browser_sees_its_own_pressed(start_server):
    """Likes survive a restart, and each browser sees its own likes pressed."""
    server = start_server()
    first, second = new_cheep(server), new_cheep(server)
    ada, grace = a_browser(server), a_browser(server)
    for cookie, cheep_ids in ((ada, (first, second)), (grace, (first,))):
        client = server.connect(cookie=cookie)
        for cheep_id in cheep_ids:
            like(client, cheep_id)
            assert next_answer(client, f"a like of cheep {cheep_id}").get("type") == "likes"
    server.restart()
    expected = {
        "Ada (who liked both)": (ada, {first: ("2", "true"), second: ("1", "true")}),
        "Grace (who liked the first)": (grace, {first: ("2", "true"), second: ("1", "false")}),
        "a newcomer": ("", {first: ("2", "false"), second: ("1", "false")}),
    }
    for who, (cookie, cheeps) in expected.items():
        for cheep_id, (count, pressed) in cheeps.items():
            seen = shown(server, cheep_id, cookie)
            assert seen == (count, pressed), (
                f"After a restart, the page drawn for {who} shows cheep {cheep_id} with {seen[0]!r} likes and "
                f"aria-pressed={seen[1]!r}, not {count!r} likes and aria-pressed={pressed!r}."
            )
    client = server.connect(cookie=ada)  # the key is remembered too: Ada cannot like again
    like(client, first)
    assert_count(next_answer(client, "a like after the restart"), first, 2, "Ada, liking again after a restart,")


def test_a_cheeps_db_from_step_2_gains_likes_and_keeps_every_cheep(start_server, tmp_path):
    """A cheeps.db from step 2 gains likes and keeps every cheep."""
    database = tmp_path / "cheeps.db"
    with sqlite3.connect(database) as db:  # as step 2 made it, before likes
        db.execute(
            "CREATE TABLE cheeps (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "cheep TEXT NOT NULL, time TEXT NOT NULL)"
        )
        db.executemany(
            "INSERT INTO cheeps (name, cheep, time) VALUES ('Ada', ?, '2026-01-01T00:00:00+00:00')",
            [(f"old {number}",) for number in range(1, 4)],
        )
    db.close()
    server = start_server(database=database)
    page = page_as(server)
    for cheep_id in (1, 2, 3):
        assert f"old {cheep_id}" in page.get_text(), f"The cheep 'old {cheep_id}' of step 2's cheeps.db is gone."
        assert shown(server, cheep_id)[0] == "0", f"Cheep {cheep_id}, never liked, does not show 0 likes."
    client = server.connect(cookie=a_browser(server))
    like(client, 2)
    assert_count(next_answer(client, "a like of an old cheep"), 2, 1, "A like of a cheep from step 2's cheeps.db")
