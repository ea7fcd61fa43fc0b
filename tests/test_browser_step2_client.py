"""Step 2's promises in a real browser: two windows see every cheep live."""

import contextlib
import re

import pytest
from playwright.sync_api import expect

from app_client import post_cheep, unique
from browser import LIVE, expect_newest, expect_stayed, feed, open_live, send
from screenshots import side_by_side
from waits import ARRIVES

pytestmark = pytest.mark.stage("step2_client")


def test_a_cheep_sent_in_one_window_appears_in_both_without_a_reload(server, windows):
    """A cheep sent in one window appears in both without a reload."""
    a, b = open_live(windows, server), open_live(windows, server)
    count_in_b = feed(b).count()
    text = unique("live")
    send(a, "Ada", text)
    for page in (a, b):
        expect_newest(page, "Ada", text)

    # A second cheep, sent after it, shows that no copy of the first comes late.
    then = unique("then")
    send(a, "Ada", then)
    expect_newest(b, "Ada", then)
    expect(feed(b)).to_have_count(count_in_b + 2)
    expect(b.get_by_text(text)).to_have_count(1)
    for page in (a, b):
        expect_stayed(page)
    expect(a.locator("#cheep")).to_have_value("")


def test_enter_in_the_cheep_field_sends_it(server, windows):
    """Enter in the cheep field sends it."""
    a, b = open_live(windows, server), open_live(windows, server)
    text = unique("enter")
    send(a, "Ada", text, key="Enter")
    expect_newest(b, "Ada", text)
    expect_stayed(a, "Enter in the cheep field")


def test_a_cheep_posted_elsewhere_appears_live(server, windows):
    """A cheep posted elsewhere appears live."""
    page = open_live(windows, server)
    text = unique("posted")
    post_cheep(server, "curl", text)
    expect_newest(page, "curl", text)


def test_html_in_a_cheep_is_shown_as_text_and_never_runs(server, windows):
    """HTML in a cheep is shown as text and never runs."""
    a, b = open_live(windows, server), open_live(windows, server)
    attacks = ['<img src=x onerror="window.pwned=1">', "<script>window.pwned=1</script>"]
    for attack in attacks:
        send(a, "<b>Mallory</b>", attack)
    for page in (a, b):
        with contextlib.suppress(AssertionError):  # drawn as text or not: what follows says which
            expect(feed(page).filter(has_text="Mallory")).to_have_count(2, timeout=ARRIVES)
        assert page.evaluate("typeof window.pwned") == "undefined", "A script in a cheep ran: it was drawn as HTML."
        assert page.locator("#feed b:text-is('Mallory')").count() == 0, (
            "A name made of HTML was drawn as HTML: the feed holds <b>Mallory</b>."
        )
        expect_newest(page, "<b>Mallory</b>", attacks[-1])
        for attack in attacks:
            expect(page.locator("#feed .text", has_text=attack)).to_have_count(1)
        expect(page.locator("#feed .name", has_text="<b>Mallory</b>")).to_have_count(2)
    b.reload()  # and as the server draws the page
    expect(b.locator("#feed .text", has_text=attacks[0])).to_have_count(1)
    for page in (a, b):
        assert page.evaluate("typeof window.pwned") == "undefined", "A script in a cheep ran."


def test_the_page_opens_its_socket_to_the_address_it_came_from(server, windows):
    """The page opens its socket to the address it came from."""
    assert server.port != 5000, "Test on a port other than the usual one."
    page = windows.open(server)
    for _ in range(50):  # Playwright reports the socket while it waits
        if windows.socket_urls:
            break
        page.wait_for_timeout(100)
    assert windows.socket_urls, "The page opened no WebSocket."
    expected = f"ws://127.0.0.1:{server.port}/ws"
    for url in windows.socket_urls:
        assert url == expected, f"The page opened its WebSocket at {url}, not at {expected}."


def test_no_request_leaves_the_apps_own_host(server, windows):
    """No request leaves the app's own host."""
    page = open_live(windows, server)
    send(page, "Ada", unique())
    expect(feed(page)).not_to_have_count(0, timeout=ARRIVES)
    page.reload()
    expect(page.locator("#status")).to_have_text(LIVE)
    assert page.evaluate("typeof jQuery") == "function", "jQuery did not load."
    assert windows.foreign_requests == [], f"The page asked other hosts for: {', '.join(windows.foreign_requests)}"


def test_the_page_says_when_the_live_feed_is_disconnected(start_server, windows):
    """The page says when the live feed is disconnected."""
    server = start_server()
    page = open_live(windows, server)
    server.stop()
    expect(page.locator("#status")).to_contain_text(re.compile("disconnected", re.I))


@pytest.mark.screenshot
def test_two_windows_show_the_same_cheeps(start_server, windows, screenshot_folder, app_dir):
    """Two windows show the same cheeps."""
    server = start_server()
    for name, cheep in [("Ada", "Hello, Cheeper!"), ("Grace", "Is anyone else here?")]:
        post_cheep(server, name, cheep)
    a, b = open_live(windows, server), open_live(windows, server)
    send(b, "Linus", "Yes! And I saw your cheep at once.")
    b.fill("#name", "Linus")
    a.fill("#name", "Grace")
    for page in (a, b):
        expect(feed(page).first).to_contain_text("I saw your cheep", timeout=ARRIVES)
    a.screenshot(path=screenshot_folder / "a.png")
    b.screenshot(path=screenshot_folder / "b.png")
    side_by_side(
        screenshot_folder / "a.png",
        screenshot_folder / "b.png",
        screenshot_folder / f"{app_dir.name}-two-windows.png",
    )
    (screenshot_folder / "a.png").unlink()
    (screenshot_folder / "b.png").unlink()
