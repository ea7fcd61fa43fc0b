"""The solution's promises in a real browser: it reconnects, catches up, and explains."""

import re

import pytest
from playwright.sync_api import expect

from app_client import post_cheep, unique
from browser import LIVE, RECONNECTING, feed, open_live, open_live_counting_frames, pause_clock, send
from waits import ARRIVES, BACK

pytestmark = pytest.mark.stage("solution")


def hold_catch_up(page):
    """Hold the page's catch-up requests in a list, to be answered with continue_()."""
    held = []
    page.route("**/api/cheeps*", lambda route: held.append(route))
    return held


def test_the_page_reconnects_by_itself_when_the_server_comes_back(start_server, windows):
    """The page reconnects by itself when the server comes back."""
    server = start_server()
    a, b = open_live(windows, server), open_live(windows, server)
    server.stop()
    for page in (a, b):
        expect(page.locator("#status")).to_contain_text(RECONNECTING)
    server.start()
    for page in (a, b):
        expect(page.locator("#status")).to_have_text(LIVE, timeout=BACK)
    text = unique("back")
    send(a, "Ada", text)
    expect(feed(b).first).to_contain_text(text, timeout=ARRIVES)
    assert b.evaluate("window.stayed") is True, "The page reloaded to reconnect."


def test_a_cheep_stored_while_the_page_was_away_appears_once_it_is_back(start_server, windows):
    """A cheep stored while the page was away appears once the page is back."""
    server = start_server()
    page = open_live(windows, server)
    before = feed(page).count()
    pause_clock(page)
    server.stop()
    expect(page.locator("#status")).to_contain_text(RECONNECTING)

    server.start()
    missed = unique("missed")
    post_cheep(server, "Grace", missed)  # while the page is still away
    page.clock.resume()
    expect(page.locator("#status")).to_have_text(LIVE, timeout=BACK)
    expect(feed(page).first).to_contain_text(missed, timeout=ARRIVES)

    then = unique("then")  # after it, so that a late copy of the missed one would show
    post_cheep(server, "Grace", then)
    expect(feed(page).first).to_contain_text(then, timeout=ARRIVES)
    expect(page.get_by_text(missed)).to_have_count(1)
    expect(feed(page)).to_have_count(before + 2)


def test_a_cheep_that_arrives_live_and_in_the_catch_up_shows_once(server, windows):
    """A cheep that arrives both live and in the catch-up shows once."""
    page = windows.open(server)
    held = hold_catch_up(page)
    with page.expect_request("**/api/cheeps*"):
        page.reload()
    expect(page.locator("#status")).to_have_text(LIVE)
    twice = unique("twice")
    post_cheep(server, "Grace", twice)  # arrives live, and will be in the catch-up too
    expect(feed(page).first).to_contain_text(twice, timeout=ARRIVES)
    held[0].continue_()
    then = unique("then")
    post_cheep(server, "Grace", then)
    expect(feed(page).first).to_contain_text(then, timeout=ARRIVES)
    expect(page.get_by_text(twice)).to_have_count(1)


def test_caught_up_cheeps_take_their_place_below_newer_live_ones(start_server, windows):
    """Caught-up cheeps take their place below newer live ones."""
    server = start_server()
    page = open_live(windows, server)
    pause_clock(page)
    server.stop()
    expect(page.locator("#status")).to_contain_text(RECONNECTING)
    server.start()
    missed = unique("missed")
    post_cheep(server, "Grace", missed)
    held = hold_catch_up(page)
    with page.expect_request("**/api/cheeps*"):
        page.clock.resume()
    expect(page.locator("#status")).to_have_text(LIVE, timeout=BACK)
    live = unique("live")  # newer than the missed one, and here before it
    post_cheep(server, "Grace", live)
    expect(feed(page).first).to_contain_text(live, timeout=ARRIVES)
    held[0].continue_()
    expect(feed(page).nth(1)).to_contain_text(missed, timeout=ARRIVES)
    expect(page.get_by_text(missed)).to_have_count(1)


def test_every_time_on_the_page_reads_the_same_on_a_cheep_the_server_drew_and_on_a_live_one(server, windows):
    """Every time on the page reads the same way, on a cheep the server drew and on a live one."""
    drawn, live = unique("drawn"), unique("live")
    post_cheep(server, "Ada", drawn)
    page = open_live(windows, server)
    post_cheep(server, "Grace", live)
    expect(feed(page).filter(has_text=live)).to_have_count(1, timeout=ARRIVES)
    times = {text: feed(page).filter(has_text=text).locator("time").inner_text() for text in (drawn, live)}
    unlike = {text: time for text, time in times.items() if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", time)}
    assert unlike == {}, f"Times shown as {times}: each should read like 2026-05-04 09:30 UTC."


def test_an_empty_or_blank_cheep_is_not_sent(server, windows):
    """An empty or blank cheep is not sent."""
    page, sent = open_live_counting_frames(windows, server)
    before = feed(page).count()
    send(page, "Ada", "")  # the browser itself refuses: the field is required
    send(page, "Ada", "     ")
    expect(page.locator("#error")).not_to_be_empty()
    send(page, "Ada", unique("real"))  # the one cheep that does go
    expect(feed(page)).to_have_count(before + 1, timeout=ARRIVES)
    assert len(sent) == 1, f"The page sent {len(sent)} messages: {sent}"


def test_typing_past_the_limit_stops_at_76_characters(server, windows):
    """Typing past the limit stops at 76 characters."""
    page = open_live(windows, server)
    page.fill("#name", "Ada")
    page.locator("#cheep").press_sequentially("x" * 80)
    assert len(page.input_value("#cheep")) == 76


def test_an_error_from_the_server_is_shown_to_the_user(server, windows):
    """An error from the server is shown to the user."""
    page = open_live(windows, server)
    # Past the form's own limit, as an old or doctored page could send it:
    page.evaluate("document.getElementById('cheep').removeAttribute('maxlength')")
    send(page, "Ada", "y" * 77)
    expect(page.locator("#error")).to_contain_text("76")
    expect(feed(page).filter(has_text="y" * 77)).to_have_count(0)
