"""The solution's page with a long feed, in a real browser: it shows the newest
cheeps and brings older ones in place; cheeps that arrive together are drawn
together, and the page keeps a few hundred, so that a flood cannot freeze it;
and the page passes axe-core's accessibility checks."""

import pytest
from playwright.sync_api import expect

from app_client import post_json, unique
from browser import LIVE, feed, open_live, pause_clock, send, serious_violations
from waits import ARRIVES, BACK

pytestmark = pytest.mark.stage("solution")

PAGE = 50  # cheeps on the page the server draws, and in each older page
MOST_SHOWN = 200  # cheeps the page keeps, besides the older pages the reader asked for


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
        lambda socket: socket.on(
            "framereceived", lambda frame: received.append(frame) if '"cheep"' in str(frame) else None
        ),
    )
    return received


def test_show_older_cheeps_brings_them_in_place_until_there_are_none(start_server, windows):
    """The "Show older cheeps" link brings them in, in place, until there are none."""
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


def live_page_with_its_clock_paused(windows, server):
    """A live page whose clock is paused, as a tab in the background: it draws no
    frame until page.clock.run_for(); and the list of cheeps its socket receives."""
    page = windows.open(server)
    received = cheep_frames_received(page)
    page.reload()
    expect(page.locator("#status")).to_have_text(LIVE)
    pause_clock(page)
    return page, received


def wait_for_frames(page, received, count):
    """Wait until the page's socket has received `count` cheeps. Playwright hands
    over the page's events only while it is called, so wait with the page."""
    for _ in range(100):
        if len(received) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"The page received {len(received)} of {count} cheeps.")


def count_cheeps_put_on_the_page(page):
    """From now on, window.feedChanges counts the changes to the feed (the browser
    reports the changes one script makes at once as one), window.cheepsAdded the cheeps added."""
    page.evaluate("""() => {
        window.feedChanges = 0;
        window.cheepsAdded = 0;
        new MutationObserver((changes) => {
            window.feedChanges++;
            changes.forEach((change) => { window.cheepsAdded += change.addedNodes.length; });
        }).observe(document.querySelector("#feed"), {childList: true});
    }""")


def test_cheeps_that_arrive_together_are_drawn_together_in_one_frame(start_server, windows):
    """Cheeps that arrive together are drawn together, in one frame."""
    server = start_server()
    page, received = live_page_with_its_clock_paused(windows, server)
    count_cheeps_put_on_the_page(page)
    post_numbered(server, range(1, 31))
    wait_for_frames(page, received, 30)
    expect(feed(page)).to_have_count(0)  # arrived, and waiting for the next frame
    page.clock.run_for(100)
    expect(feed(page)).to_have_count(30)
    assert ids_shown(page) == list(range(30, 0, -1))
    assert page.evaluate("window.feedChanges") == 1, "The 30 cheeps went on the page one by one."


def test_a_tab_that_drew_nothing_for_a_while_shows_the_newest_200_and_links_to_the_rest(start_server, windows):
    """A tab that drew nothing for a while shows the newest 200 cheeps and links to the rest."""
    server = start_server()
    page, received = live_page_with_its_clock_paused(windows, server)
    count_cheeps_put_on_the_page(page)
    post_numbered(server, range(1, 451))  # more than twice what the page keeps
    wait_for_frames(page, received, 450)
    page.clock.run_for(100)
    expect(feed(page)).to_have_count(MOST_SHOWN)
    assert ids_shown(page) == list(range(450, 250, -1))
    # It kept no more than twice what it shows waiting, and drew no more than that.
    assert page.evaluate("window.cheepsAdded") <= 2 * MOST_SHOWN, "The page drew every cheep, to drop most."
    page.clock.resume()
    page.get_by_role("link", name="Show older cheeps").click()
    expect(feed(page)).to_have_count(MOST_SHOWN + PAGE)
    assert ids_shown(page) == list(range(450, 200, -1))


def page_after_a_flood(start_server, windows, newest):
    """A server with cheeps 1 to `newest`, and a live page that saw 1 to 10 drawn
    by the server, and the rest arrive live."""
    server = start_server()
    post_numbered(server, range(1, 11))
    page = open_live(windows, server)
    post_numbered(server, range(11, newest + 1))
    expect(feed(page).first).to_have_attribute("data-id", str(newest), timeout=ARRIVES * 5)
    return server, page


def test_cheeps_arriving_while_older_ones_load_leave_no_gap(start_server, windows):
    """Cheeps arriving while older ones load leave no gap."""
    server, page = page_after_a_flood(start_server, windows, 210)
    expect(feed(page)).to_have_count(MOST_SHOWN)
    held = []
    page.route("**/api/cheeps?before=*", lambda route: held.append(route))
    with page.expect_request("**/api/cheeps?before=*"):
        page.get_by_role("link", name="Show older cheeps").click()
    post_numbered(server, range(211, 216))  # would push the oldest off while the older ones are on their way
    expect(feed(page).first).to_have_attribute("data-id", "215", timeout=ARRIVES)
    held[0].continue_()
    expect(feed(page)).to_have_count(215)
    assert ids_shown(page) == list(range(215, 0, -1))


def test_a_flood_leaves_the_newest_200_on_the_page_once_each_and_the_rest_a_click_away(start_server, windows):
    """A flood leaves the newest 200 cheeps on the page, once each, and the rest a click away."""
    _, page = page_after_a_flood(start_server, windows, 260)
    expect(feed(page)).to_have_count(MOST_SHOWN)
    assert ids_shown(page) == list(range(260, 60, -1))
    page.get_by_role("link", name="Show older cheeps").click()
    expect(feed(page)).to_have_count(MOST_SHOWN + PAGE)
    assert ids_shown(page) == list(range(260, 10, -1))


def test_a_page_that_missed_more_than_a_page_starts_again_from_the_newest(start_server, windows):
    """A page that missed more than a page of cheeps starts again from the newest."""
    server = start_server()
    post_numbered(server, range(1, 6), "before")
    page = open_live(windows, server)
    pause_clock(page)
    server.stop()
    expect(page.locator("#status")).not_to_have_text(LIVE)
    answers = []  # from here on: the first catch-up was answered before the server stopped
    page.on("response", lambda response: answers.append(response) if "/api/cheeps" in response.url else None)
    server.start()
    post_numbered(server, range(1, 121), "missed")  # while the page is away
    page.clock.resume()
    expect(page.locator("#status")).to_have_text(LIVE, timeout=BACK)
    expect(feed(page).first).to_contain_text("missed 120", timeout=ARRIVES)
    expect(feed(page)).to_have_count(PAGE)
    assert ids_shown(page) == list(range(125, 75, -1)), "Cheeps from before the gap stayed on the page."
    assert len(answers) == 2 and all(len(answer.json()) <= PAGE for answer in answers), (
        f"To catch up, the page asked for {[answer.url for answer in answers]}: one page, then the newest."
    )
    page.get_by_role("link", name="Show older cheeps").click()
    expect(feed(page)).to_have_count(2 * PAGE)
    assert ids_shown(page) == list(range(125, 25, -1))


def test_the_page_has_no_serious_accessibility_problems_in_any_state(start_server, windows):
    """The page has no serious accessibility problems, in any state."""
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
    # A screen reader reads out each cheep added to the feed, and not the feed again.
    expect(page.locator("#feed")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#feed")).to_have_attribute("aria-relevant", "additions")
    page.get_by_role("link", name="Show older cheeps").click()
    expect(feed(page)).to_have_count(PAGE + 11)
    assert serious_violations(page) == []
    older = windows.open(server)
    older.goto(server.url + "/?before=30")
    assert serious_violations(older) == []
