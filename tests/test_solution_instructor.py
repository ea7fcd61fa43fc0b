"""The instructor's hands, over HTTP and WebSocket: the link printed at start makes
one browser the instructor's, and only it can remove a cheep from every page,
mute a name or an address, start afresh, and read the room's progress."""

import json
import sqlite3

import pytest
import requests

from app_client import (
    ONE_PERSON_PER_ADDRESS,
    PEOPLE_BEHIND_A_PROXY,
    REPORT,
    Instructor,
    as_person,
    cheeps_since,
    get_page,
    instructor_link,
    new_key,
    post_json,
    post_progress,
    receive_json,
    receive_type,
    send_cheep,
    unique,
)

pytestmark = pytest.mark.stage("solution")

REMOVED = "The instructor removed this cheep"
MUTED = "Your cheeps are paused for now"
ONLY = "Only the instructor can do that."


def texts(cheeps):
    return [cheep["cheep"] for cheep in cheeps]


def arrives(client, text):
    """The cheep `text` as it arrives on a client; other messages before it are skipped."""
    while (message := receive_type(client, "cheep"))["cheep"] != text:
        pass
    return message


def gets_nothing_more(client):
    """Whether nothing but the answer to a ping comes next on a client."""
    client.send(json.dumps({"type": "ping"}))
    return receive_json(client) == {"type": "pong"}


def test_the_printed_link_makes_a_browser_the_instructor_with_a_cookie_no_script_or_other_site_gets(server):
    """The printed link makes a browser the instructor, with a cookie that no script or other site gets."""
    link = instructor_link(server)
    answer = requests.get(link, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/", "The key should leave the address bar."
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    key = link.split("key=")[1]
    assert key not in cookie, "The cookie holds the key itself."
    instructor = Instructor(server)
    assert "Instructor" in instructor.get("/").text
    assert get_page(server).find(id="instructor") is None, "Everyone gets the instructor's tools."
    for path in ["/", "/?before=5", "/instructor/board", "/api/progress", "/api/cheeps", "/static/cheeper.js"]:
        assert key not in instructor.get(path).text + requests.get(server.url + path).text
    assert server.output().count(key) == 1, "The key is in the server's output after the line that gives the link."


def test_a_wrong_key_is_refused_and_guessing_soon_gets_429(start_server):
    """A wrong key is refused, and guessing soon gets 429."""
    server = start_server(env=ONE_PERSON_PER_ADDRESS)
    answer = requests.get(server.url + "/instructor?key=guess", allow_redirects=False)
    assert answer.status_code == 403 and "Copy it again" in answer.text
    assert "Set-Cookie" not in answer.headers
    statuses = [requests.get(server.url + f"/instructor?key=guess{n}").status_code for n in range(30)]
    assert 429 in statuses, "A guesser may try keys as fast as they like."


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "http://evil.example"}, {"Cookie": "cheeper_instructor=made-up"}],
    ids=["without the cookie", "from another site", "with a made-up cookie"],
)
def test_nobody_else_may_act_or_see_the_board_over_http(server, headers):
    """Nobody else may act, or see the board, over HTTP."""
    text = unique("stays")
    cheep_id = post_json(server, "Ada", text).json()["id"]
    instructor = Instructor(server)
    request = requests.Session()
    request.headers.update(headers)
    if "Origin" in headers:  # the instructor's own cookie, on another site's request
        request.cookies.update(instructor.http.cookies)
    else:
        request.headers.setdefault("Origin", server.url)
    for message in [{"type": "remove", "id": cheep_id}, {"type": "start-afresh"}]:
        answer = request.post(server.url + "/api/instructor", json=message)
        assert (answer.status_code, answer.json()["message"]) == (403, ONLY)
    if "Origin" not in headers:  # (another site's page could not read them: the browser's same-origin rule)
        assert request.get(server.url + "/instructor/board").status_code == 403
        assert request.get(server.url + "/api/progress").status_code == 403
    assert text in texts(cheeps_since(server, cheep_id - 1))


def test_nobody_else_may_act_over_the_socket(server):
    """Nobody else may act over the socket."""
    text = unique("stays")
    cheep_id = post_json(server, "Ada", text).json()["id"]
    client = server.connect()
    for message in [
        {"type": "remove", "id": cheep_id},
        {"type": "mute", "id": cheep_id, "what": "name"},
        {"type": "start-afresh"},
    ]:
        client.send(json.dumps(message))
        assert receive_json(client) == {"type": "error", "message": ONLY}
    client.send(json.dumps({"type": []}))  # no type Cheeper knows: refused like any other
    assert receive_json(client)["type"] == "error" and gets_nothing_more(client)
    assert text in texts(cheeps_since(server, cheep_id - 1))


def test_a_removed_cheep_leaves_every_page_and_is_never_shown_again(start_feed):
    """A removed cheep leaves every page and is never shown again."""
    server = start_feed(60)
    key, rude = new_key(), unique("rude")
    page, instructors_page = server.connect(), Instructor(server).connect()
    send_cheep(page, "Troll", rude, key)
    rude_id = receive_type(page, "cheep")["id"]
    receive_type(instructors_page, "cheep")
    instructors_page.send(json.dumps({"type": "remove", "id": rude_id}))
    removal = receive_type(page, "removed")
    assert removal == {"type": "removed", "id": rude_id, "seq": removal["seq"]}
    assert receive_type(instructors_page, "removed") == removal
    assert rude not in get_page(server).text
    assert rude not in texts(cheeps_since(server, 0))
    # Issue 11's paging still holds: the newest page is 50, and the Link leads to the rest.
    newest = requests.get(server.url + "/api/cheeps").json()
    assert texts(newest) == [f"cheep {n}" for n in range(60, 10, -1)]
    assert requests.get(server.url + f"/api/removals?since={removal['seq'] - 1}").json() == [removal]
    # Issue 9's key: sent again (a page that missed its acknowledgement), it is not stored again.
    send_cheep(page, "Troll", rude, key)
    refusal = receive_type(page, "error")
    assert REMOVED in refusal["message"] and refusal["key"] == key
    assert post_json(server, "Troll", rude, key).status_code == 410
    assert rude not in texts(cheeps_since(server, 0))


def test_removing_what_is_not_there_says_so(server):
    """Removing what is not there says so."""
    instructor = Instructor(server)
    cheep_id = post_json(server, "Ada", unique()).json()["id"]
    assert instructor.act({"type": "remove", "id": cheep_id}).status_code == 200
    for message in [
        {"type": "remove", "id": cheep_id},
        {"type": "remove", "id": 2**63 - 1},
        {"type": "mute", "id": 2**63 - 1, "what": "name"},
        {"type": "mute", "id": cheep_id, "what": "name"},
    ]:
        answer = instructor.act(message)
        assert answer.status_code == 404 and "no such cheep" in answer.json()["message"]
    for message in [
        {"type": "remove"},
        {"type": "remove", "id": "7"},
        {"type": "mute", "id": 1, "what": "all"},
        {"type": "explode"},
        {"type": []},
        {"type": "start-afresh", "now": True},
        [1],
    ]:
        answer = instructor.act(message)
        assert answer.status_code == 400 and answer.json()["message"], message


def test_a_muted_name_or_address_is_refused_with_a_calm_sentence_and_others_are_not(start_server):
    """A muted name or address is refused with a calm sentence, and others are not."""
    server = start_server(env=PEOPLE_BEHIND_A_PROXY)
    instructor = Instructor(server)
    board, bystander = instructor.connect(), server.connect(header=as_person(2))
    troll = server.connect(header=as_person(1))
    send_cheep(troll, "Troll", unique("rude"))
    rude_id = receive_type(troll, "cheep")["id"]
    assert instructor.act({"type": "mute", "id": rude_id, "what": "name"}).status_code == 200
    assert receive_type(board, "muted") == {"type": "muted", "what": "name", "value": "troll", "label": "Troll"}
    send_cheep(troll, "TROLL", unique("again"))
    assert MUTED in receive_type(troll, "error")["message"]
    answer = post_json(server, "Troll", "x", headers=as_person(3))
    assert answer.status_code == 403 and MUTED in answer.json()["message"]
    assert receive_type(bystander, "cheep")["id"] == rude_id  # only the first one came
    # The same laptop under another name: its address.
    send_cheep(troll, "Not Troll", unique("sneaky"))
    sneaky_id = receive_type(troll, "cheep")["id"]
    assert instructor.act({"type": "mute", "id": sneaky_id, "what": "address"}).status_code == 200
    send_cheep(troll, "Someone Else", unique("again"))
    assert MUTED in receive_type(troll, "error")["message"]
    other = unique("fine")
    send_cheep(bystander, "Grace", other)
    assert arrives(bystander, other)
    # Unmuted: cheeps again.
    address = receive_type(board, "muted")["value"]
    instructor.act({"type": "unmute", "what": "address", "value": address})
    instructor.act({"type": "unmute", "what": "name", "value": "troll"})
    back = unique("back")
    send_cheep(troll, "Troll", back)
    assert arrives(troll, back)


def test_starting_afresh_empties_every_page_and_ids_go_on(start_feed):
    """Starting afresh empties every page, and ids go on."""
    server = start_feed(70)
    page = server.connect()
    assert Instructor(server).act({"type": "start-afresh"}).status_code == 200
    cleared = receive_type(page, "cleared")
    assert cleared["up_to"] == 70
    assert requests.get(server.url + "/api/cheeps").json() == []
    assert get_page(server).select("#feed > li") == []
    assert get_page(server).find(id="older-cheeps").has_attr("hidden")
    answer = post_json(server, "Ada", "a new workshop")
    assert answer.json()["id"] > 70, "An id was used twice: a page would take a new cheep for an old one."
    assert texts(cheeps_since(server, 0)) == ["a new workshop"]
    assert requests.get(server.url + "/api/removals?since=0").json()[-1] == cleared


def test_the_instructor_hears_each_report_and_nobody_else_does(server):
    """The instructor hears each report, and nobody else does."""
    instructors_page, page = Instructor(server).connect(), server.connect()
    answer = post_progress(server)
    assert answer.status_code == 201, answer.text
    heard = receive_type(instructors_page, "progress")
    assert {field: heard[field] for field in REPORT} == REPORT and heard["learner"] and heard["time"]
    assert gets_nothing_more(page), "A learner's page heard of someone's progress."
    assert heard in Instructor(server).get("/api/progress").json()


@pytest.mark.parametrize(
    "report, says",
    [
        ("not json", "JSON object"),
        ([REPORT], "JSON object"),
        ({**REPORT, "path": "/home/ada"}, "nothing else"),
        ({**REPORT, "name": "<b>" + "x" * 40}, '"name" must be 1 to 32'),
        ({**REPORT, "name": "Ada\nBo"}, "control character"),
        ({**REPORT, "step": 9}, '"step"'),
        ({**REPORT, "step": True}, '"step"'),
        ({**REPORT, "kept": 16}, '"kept"'),
        ({**REPORT, "failing": None}, '"failing"'),
        ({**REPORT, "failing": "x" * 300}, '"failing" must be 1 to 200'),
    ],
)
def test_a_bogus_report_is_refused_with_a_reason(server, report, says):
    """A bogus report is refused with a reason."""
    if isinstance(report, str):
        answer = requests.post(server.url + "/api/progress", data=report, headers={"Content-Type": "application/json"})
    else:
        answer = post_progress(server, report)
    assert answer.status_code == 400 and says in answer.json()["message"], answer.text


def test_a_flood_of_reports_is_slowed_with_429(start_server):
    """A flood of reports is slowed with 429."""
    server = start_server(env=ONE_PERSON_PER_ADDRESS)
    statuses = [post_progress(server).status_code for _ in range(30)]
    assert statuses[0] == 201 and 429 in statuses


def test_a_cheeps_db_made_before_removals_keeps_every_cheep(start_server, tmp_path):
    """A cheeps.db made before removals keeps every cheep."""
    database = tmp_path / "cheeps.db"
    with sqlite3.connect(database) as db:  # as the solution made it before the instructor's tools
        db.execute(
            "CREATE TABLE cheeps (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "cheep TEXT NOT NULL, time TEXT NOT NULL, key TEXT)"
        )
        db.execute("CREATE UNIQUE INDEX cheeps_key ON cheeps (key)")
        db.executemany(
            "INSERT INTO cheeps (name, cheep, time, key) VALUES (?, ?, '2026-01-01T00:00:00+00:00', ?)",
            [("Ada", f"old {n}", new_key() if n % 2 else None) for n in range(1, 6)],
        )
    db.close()
    server = start_server(database=database)
    assert texts(cheeps_since(server, 0)) == [f"old {n}" for n in range(1, 6)]
    assert Instructor(server).act({"type": "remove", "id": 2}).status_code == 200
    assert texts(cheeps_since(server, 0)) == ["old 1", "old 3", "old 4", "old 5"]
    assert Instructor(server).act({"type": "mute", "id": 3, "what": "address"}).status_code == 404
