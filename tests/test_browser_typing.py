"""Going further, a typing indicator, in a real browser: while one window types,
the others say who is typing, until that person's cheep arrives or they stop."""

import re
import time

import pytest
from playwright.sync_api import expect

from app_client import unique
from browser import expect_newest, open_live
from waits import ARRIVES

pytestmark = pytest.mark.stage("typing")

GOES_AWAY = 10_000  # milliseconds: "stops typing for a few seconds", with room to spare
ANYONE = r"\b(is|are) typing"


def start_typing(page, name):
    """Type a name, then a cheep key by key, as a person does; the cheep's text."""
    text = unique("typed")
    page.fill("#name", name)
    page.locator("#cheep").press_sequentially(text)
    return text


def typing_line(page, pattern=ANYONE):
    """What the page shows that says someone is typing: the feed left out, where a cheep may say so too."""
    return page.locator("body *:not(#feed, #feed *, script, style):visible", has_text=re.compile(pattern))


def says(page):
    """What the page's typing line says, in words for a test's message."""
    line = typing_line(page)
    return f"it says {line.last.inner_text()!r}" if line.count() else "nothing on it says anyone is typing"


def still_says(page):
    line = typing_line(page)
    return f"still says {line.last.inner_text()!r}" if line.count() else "no longer says anyone is typing"


def typing_frames(page):
    """What the page sent on its socket that says someone is typing."""
    return [frame for frame in page.frames_sent if "typing" in str(frame)]


def expect_typing_line(page, pattern, what, typist):
    """Wait until the page shows `pattern`; else say what it shows, and whether the typist sent anything."""
    try:
        expect(typing_line(page, pattern).last).to_be_visible(timeout=ARRIVES)
    except AssertionError:
        if not typing_frames(typist):
            raise AssertionError(
                "Typing in the cheep field sent no typing message on the page's socket: "
                f"{what} never appeared in the other window."
            ) from None
        raise AssertionError(
            f"{what} did not appear within {ARRIVES} ms, though the typist's page sent "
            f"{str(typing_frames(typist)[0])[:80]}: {says(page)}."
        ) from None


def expect_no_typing_line(page, timeout, what):
    try:
        expect(typing_line(page)).to_have_count(0, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{what} {still_says(page)}.") from None


def test_while_one_window_types_the_others_say_who_is_typing_and_the_typist_does_not(server, windows):
    """While one window types, the others say who is typing, and the typist's own window does not."""
    typist, other = open_live(windows, server), open_live(windows, server)
    start_typing(typist, "Grace")
    expect_typing_line(other, r"\bGrace is typing", '"Grace is typing…"', typist)
    assert typing_line(typist).count() == 0, f"The typist's own window should say nothing of itself: {says(typist)}."


def test_the_line_goes_when_the_cheep_of_that_person_arrives(server, windows):
    """The typing line goes when that person's cheep arrives."""
    typist, other = open_live(windows, server), open_live(windows, server)
    text = start_typing(typist, "Grace")
    expect_typing_line(other, r"\bGrace is typing", '"Grace is typing…"', typist)
    typist.click("#cheep-form button")
    expect_newest(other, "Grace", text)
    # The cheep says she is done: no need to wait for a timer.
    expect_no_typing_line(other, 500, "Grace's cheep arrived, and half a second later the other window")


def test_the_line_goes_a_few_seconds_after_typing_stops(server, windows):
    """The typing line goes a few seconds after typing stops."""
    typist, other = open_live(windows, server), open_live(windows, server)
    start_typing(typist, "Grace")
    expect_typing_line(other, r"\bGrace is typing", '"Grace is typing…"', typist)
    expect_no_typing_line(
        other, GOES_AWAY, f"Grace stopped typing, and {GOES_AWAY // 1000} seconds later the other window"
    )


def test_two_people_typing_at_once_are_both_named(server, windows):
    """Two people typing at once are both named."""
    ada, grace, other = open_live(windows, server), open_live(windows, server), open_live(windows, server)
    text = start_typing(ada, "Ada")
    start_typing(grace, "Grace")
    expect_typing_line(other, r"\b(Ada and Grace|Grace and Ada) are typing", '"Ada and Grace are typing…"', grace)
    ada.click("#cheep-form button")
    expect_newest(other, "Ada", text)
    expect_typing_line(other, r"^\s*Grace is typing", 'Once Ada\'s cheep arrived, "Grace is typing…"', grace)


def test_a_name_made_of_html_shows_as_text_in_the_typing_line(server, windows):
    """A name made of HTML shows as text in the typing line."""
    typist, other = open_live(windows, server), open_live(windows, server)
    start_typing(typist, "<b>Mallory</b>")
    expect_typing_line(other, r"Mallory", "A line saying Mallory is typing", typist)
    assert other.locator("b:text-is('Mallory')").count() == 0, (
        "The typing line shows a name made of HTML as HTML: it holds a bold Mallory, not the words <b>Mallory</b>."
    )
    expect_typing_line(other, re.escape("<b>Mallory</b> is typing"), 'The words "<b>Mallory</b> is typing…"', typist)


def test_typing_fast_tells_the_others_at_most_once_every_two_seconds(server, windows):
    """Typing fast tells the others at most once every two seconds."""
    typist = open_live(windows, server)
    typist.fill("#name", "Grace")
    started = time.monotonic()
    typist.locator("#cheep").press_sequentially("typed fast, one key every tenth of a second", delay=100)
    typed_for = time.monotonic() - started
    sent = typing_frames(typist)
    most = int(typed_for / 2) + 1
    assert sent, "Typing in the cheep field sent no typing message on the page's socket."
    assert len(sent) <= most, (
        f"Typing for {typed_for:.1f} seconds sent {len(sent)} typing messages, not at most {most}: "
        "one every two seconds, however fast the keys come."
    )
    assert len(sent) >= 2, (
        f"Typing for {typed_for:.1f} seconds sent one typing message only: while someone goes on typing, "
        "tell the others again every two seconds, or the line goes away as they type."
    )
