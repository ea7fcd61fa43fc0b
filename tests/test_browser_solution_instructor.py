"""The instructor's hands in a real browser: a cheep removed in the instructor's
window leaves every page without a reload, even one that was away; a muted name
is refused; starting afresh empties every page; and the instructor's board
shows the room's progress, those who look stuck first. (That a learner's real
`make check SHARE=...` reaches it is in test_self_check.py.)"""

import pytest
import requests
from playwright.sync_api import expect

from app_client import Instructor, post_json, post_progress, unique
from browser import LIVE, feed, open_as_instructor, open_live, send, serious_violations
from waits import ARRIVES, BACK

pytestmark = pytest.mark.stage("solution")


def rows(board):
    return board.locator("#board tbody tr")


def test_the_instructor_removes_a_cheep_and_every_page_loses_it_without_reloading(server, windows):
    """The instructor removes a cheep, and every page loses it without reloading."""
    rude, kept = unique("rude"), unique("kept")
    post_json(server, "Troll", rude)
    post_json(server, "Ada", kept)
    page = open_live(windows, server)
    teacher = open_as_instructor(windows, server)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)  # the tools are the instructor's only
    feed(teacher).filter(has_text=rude).get_by_role("button", name="Remove").click()
    expect(feed(page).filter(has_text=rude)).to_have_count(0, timeout=ARRIVES)
    expect(feed(teacher).filter(has_text=rude)).to_have_count(0)
    expect(feed(page).filter(has_text=kept)).to_have_count(1)
    assert page.evaluate("window.stayed") is True, "The page reloaded to lose the cheep."


def test_a_page_that_was_away_when_a_cheep_was_removed_never_shows_it_again(server, windows):
    """A page that was away when a cheep was removed never shows it again."""
    rude = unique("rude")
    post_json(server, "Troll", rude)
    sockets = []

    def away_at_first(route):
        """The first socket hears nothing from the server (the laptop is asleep); later ones hear all."""
        sockets.append(route)
        to_server = route.connect_to_server()
        if len(sockets) == 1:
            to_server.on_message(lambda message: None)

    page = windows.open(server, sockets=away_at_first)
    expect(page.locator("#status")).to_have_text(LIVE)
    page.evaluate("window.stayed = true")
    removed = requests.get(server.url + "/api/cheeps").json()
    rude_id = next(cheep["id"] for cheep in removed if cheep["cheep"] == rude)
    assert Instructor(server).act({"type": "remove", "id": rude_id}).status_code == 200
    expect(feed(page).filter(has_text=rude)).to_have_count(1)  # it never heard
    sockets[0].close()  # the laptop wakes up: the page reconnects and catches up
    expect(feed(page).filter(has_text=rude)).to_have_count(0, timeout=BACK)
    assert len(sockets) == 2 and page.evaluate("window.stayed") is True


def test_a_muted_name_is_refused_and_starting_afresh_empties_every_page(start_server, windows):
    """A muted name is refused, and starting afresh empties every page."""
    server = start_server()
    learner, teacher = open_live(windows, server), open_as_instructor(windows, server)
    rude = unique("rude")
    send(learner, "Troll", rude)
    feed(teacher).filter(has_text=rude).get_by_role("button", name="Mute name").click()
    expect(teacher.locator("#muted")).to_contain_text("Troll")
    again = unique("again")
    send(learner, "Troll", again)
    expect(learner.locator("#unsent .not-sent")).to_contain_text("paused", timeout=ARRIVES)
    expect(feed(teacher).filter(has_text=again)).to_have_count(0)
    # Start afresh: asked first, then every page empties.
    teacher.get_by_role("button", name="Start afresh…").click()
    teacher.get_by_role("button", name="No, keep them").click()
    kept = unique("still here")  # on the teacher's socket, after anything "No" might have sent
    send(teacher, "Teacher", kept)
    expect(feed(learner).first).to_contain_text(kept, timeout=ARRIVES)
    expect(feed(learner)).to_have_count(2)
    teacher.get_by_role("button", name="Start afresh…").click()
    teacher.get_by_role("button", name="Yes, remove every cheep").click()
    expect(feed(learner)).to_have_count(0, timeout=ARRIVES)
    expect(feed(teacher)).to_have_count(0)
    expect(teacher.locator("#muted")).to_have_text("Nobody.")  # a new workshop starts with nobody muted
    fresh = unique("fresh")
    send(learner, "Troll", fresh)
    expect(feed(teacher).filter(has_text=fresh)).to_have_count(1, timeout=ARRIVES)
    assert learner.evaluate("window.stayed") is True


def test_the_board_puts_the_stuck_first_and_shows_any_report_as_text(server, windows):
    """The board puts the stuck first and shows any report as text."""
    # In the order they report: at one step, failing comes first, and the longest at it first.
    reports = [
        {"name": "Bo", "step": 3, "kept": 90, "promises": 90, "failing": None},
        {"name": "Dee", "step": 2, "kept": 30, "promises": 30, "failing": None},
        {"name": "Eve", "step": 2, "kept": 29, "promises": 30, "failing": "A cheep reaches every page"},
        {
            "name": "<img src=x onerror=pwned=1>",
            "step": 2,
            "kept": 1,
            "promises": 30,
            "failing": "<script>window.pwned = 1</script>",
        },
        {"name": "Cy", "step": 1, "kept": 3, "promises": 15, "failing": "The server sends each cheep to every page"},
    ]
    board = open_as_instructor(windows, server, "/instructor/board")
    expect(board.locator("#status")).to_have_text(LIVE)
    for report in reports:
        assert post_progress(server, report).status_code == 201
    expect(rows(board).filter(has_text="Cy")).to_have_count(1, timeout=ARRIVES)
    names = [row.locator("td").first.inner_text() for row in rows(board).all()]
    order = [names.index(name) for name in ["Cy", "Eve", "<img src=x onerror=pwned=1>", "Dee", "Bo"]]
    assert order == sorted(order), f"The board's order: {names}"
    expect(rows(board).filter(has_text="<script>window.pwned = 1</script>")).to_have_count(1)
    assert board.evaluate("window.pwned") is None
    board.reload()  # drawn from the server's memory, the same
    expect(rows(board).filter(has_text="<img src=x onerror=pwned=1>")).to_have_count(1)
    assert board.evaluate("window.pwned") is None


@pytest.mark.screenshot
def test_the_instructors_feed_and_board_have_no_serious_accessibility_problems(
    start_server, windows, screenshot_folder
):
    """The instructor's feed and board have no serious accessibility problems."""
    server = start_server()
    for name, cheep in [
        ("Ada", "Step 1 works on my laptop!"),
        ("Grace", "Where does broadcast() go?"),
        ("Linus", "lol this workshop is rubbish"),
    ]:
        post_json(server, name, cheep)
    teacher = open_as_instructor(windows, server)
    feed(teacher).filter(has_text="rubbish").get_by_role("button", name="Mute name").click()
    expect(teacher.locator("#muted")).to_contain_text("Linus")
    assert serious_violations(teacher) == []
    teacher.screenshot(path=screenshot_folder / "solution-instructor.png", full_page=True)
    for report in [
        {"name": "Ada", "step": 2, "kept": 21, "promises": 21, "failing": None},
        {"name": "Grace", "step": 1, "kept": 9, "promises": 15, "failing": "The server sends each cheep to every page"},
        {
            "name": "Linus",
            "step": 2,
            "kept": 17,
            "promises": 21,
            "failing": "A cheep sent from the page arrives in every window",
        },
    ]:
        post_progress(server, report)
    board = open_as_instructor(windows, server, "/instructor/board")
    expect(rows(board)).to_have_count(3)
    assert serious_violations(board) == []
    board.set_viewport_size({"width": 820, "height": 400})  # a table wants a wider window
    board.screenshot(path=screenshot_folder / "solution-board.png", full_page=True)
