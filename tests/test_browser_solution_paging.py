"""The solution's page with a long feed, in a real browser: it shows the newest
cheeps and brings older ones in place; cheeps that arrive together are drawn
together, and the page keeps a few hundred, so that a flood cannot freeze it;
and the page passes axe-core's accessibility checks."""
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app_client import post_json, unique
from browser import ARRIVES, LIVE, feed, open_live, pause_clock, send

PAGE = 50  # cheeps on the page the server draws, and in each older page
MOST_SHOWN = 200  # cheeps the page keeps, besides the older pages the reader asked for
BACK = 15000  # milliseconds: a page finds a restarted server within this


def post_numbered(server, numbers, text="cheep"):
    for number in numbers:
        assert post_json(server, "Ada", f"{text} {number}").status_code == 201


def ids_shown(page):
    return page.eval_on_selector_all("#feed > li", "items => items.map(item => Number(item.dataset.id))")


def cheep_frames_received(page):
    """A list of the cheeps that the page's sockets receive, filled as they come."""
    received = []
    page.on(
        "websocket",
        lambda socket: socket.on("framereceived", lambda frame: received.append(frame) if '"cheep"' in str(frame) else None),
    )
    return received


def test_show_older_cheeps_brings_them_in_place_until_there_are_none(start_server, windows):
    server = start_server()
    post_numbered(server, range(1, 121))
    page = open_live(windows, server)
    expect(feed(page)).to_have_count(PAGE)
    older = page.get_by_role("link", name="Show older cheeps")
    older.click()
    expect(feed(page)).to_have_count(2 * PAGE)
    older.click()
    expect(feed(page)).to_have_count(120)
    expect(older).to_be_hidden()
    assert ids_shown(page) == list(range(120, 0, -1))
    assert page.evaluate("window.stayed") is True, "The page reloaded to show older cheeps."


def test_cheeps_that_arrive_together_are_drawn_together_in_one_frame(start_server, windows):
    server = start_server()
    page = windows.open(server)
    received = cheep_frames_received(page)
    page.reload()
    expect(page.locator("#status")).to_have_text(LIVE)
    pause_clock(page)  # no frame is drawn until the clock moves
    post_numbered(server, range(1, 31))
    for _ in range(50):  # Playwright hands over the page's events while it waits
        if len(received) == 30:
            break
        page.wait_for_timeout(100)
    assert len(received) == 30, f"The page received {len(received)} of 30 cheeps."
    expect(feed(page)).to_have_count(0)  # arrived, and waiting for the next frame
    page.clock.run_for(100)
    expect(feed(page)).to_have_count(30)
    assert ids_shown(page) == list(range(30, 0, -1))


def test_a_flood_leaves_the_newest_200_on_the_page_once_each_and_the_rest_a_click_away(start_server, windows):
    server = start_server()
    post_numbered(server, range(1, 11))
    page = open_live(windows, server)
    post_numbered(server, range(11, 261))
    expect(feed(page).first).to_have_attribute("data-id", "260", timeout=ARRIVES * 5)
    expect(feed(page)).to_have_count(MOST_SHOWN)
    assert ids_shown(page) == list(range(260, 60, -1))
    page.get_by_role("link", name="Show older cheeps").click()
    expect(feed(page)).to_have_count(MOST_SHOWN + PAGE)
    assert ids_shown(page) == list(range(260, 10, -1))


def test_a_page_that_missed_more_than_a_page_starts_again_from_the_newest(start_server, windows):
    server = start_server()
    post_numbered(server, range(1, 6), "before")
    page = open_live(windows, server)
    answers = []
    page.on("response", lambda response: answers.append(response) if "/api/cheeps" in response.url else None)
    pause_clock(page)
    server.stop()
    expect(page.locator("#status")).not_to_have_text(LIVE)
    server.start()
    post_numbered(server, range(1, 121), "missed")  # while the page is away
    page.clock.resume()
    expect(page.locator("#status")).to_have_text(LIVE, timeout=BACK)
    expect(feed(page).first).to_contain_text("missed 120", timeout=ARRIVES)
    expect(feed(page)).to_have_count(PAGE)
    assert ids_shown(page) == list(range(125, 75, -1)), "Cheeps from before the gap stayed on the page."
    assert all(len(answer.json()) <= PAGE for answer in answers), "The page downloaded more than a page."
    page.get_by_role("link", name="Show older cheeps").click()
    expect(feed(page)).to_have_count(2 * PAGE)
    assert ids_shown(page) == list(range(125, 25, -1))


def serious_violations(page):
    violations = Axe().run(page).response["violations"]
    return [
        f"{violation['impact']}: {violation['help']} ({[node['target'] for node in violation['nodes']]})"
        for violation in violations
        if violation["impact"] in ("serious", "critical")
    ]


def test_the_page_has_no_serious_accessibility_problems_in_any_state(start_server, windows):
    server = start_server()
    post_numbered(server, range(1, 61))
    page = open_live(windows, server)
    send(page, "Ada", unique("live"))
    expect(feed(page).first).to_contain_text("live", timeout=ARRIVES)
    # A cheep refused for good, past the limit as a doctored page could send it:
    # "Not sent", with its reason and an Edit button.
    page.fill("#name", "Ada")
    page.evaluate("document.querySelector('#cheep').value = 'x'.repeat(100)")
    page.click("#cheep-form button")
    expect(page.locator("#unsent .not-sent")).to_have_count(1, timeout=ARRIVES)
    assert serious_violations(page) == []
    page.get_by_role("link", name="Show older cheeps").click()
    expect(feed(page)).to_have_count(PAGE + 11)
    assert serious_violations(page) == []
    older = windows.open(server)
    older.goto(server.url + "/?before=30")
    assert serious_violations(older) == []
