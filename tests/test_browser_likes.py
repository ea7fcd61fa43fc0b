"""Going further, likes, in a real browser: each cheep's ♥ button raises its count in
every open window, a browser likes a cheep once, a page loads with the stored
counts, and the buttons pass axe-core's accessibility checks."""

import pytest
from playwright.sync_api import expect

from app_client import post_cheep, unique
from browser import expect_newest, feed, open_live, send, serious_violations, status_of
from waits import ARRIVES

pytestmark = pytest.mark.stage("likes")


def cheep_shown(page, text):
    return feed(page).filter(has_text=text)


def like_button(page, text):
    """The ♥ button of the cheep that says `text`: a real button, named "Like". When the
    cheep has none, say so at once, and what the cheep shows instead."""
    button = cheep_shown(page, text).get_by_role("button", name="Like")
    try:
        expect(button).to_have_count(1, timeout=ARRIVES)
    except AssertionError:
        shown = " ".join(" ".join(cheep_shown(page, text).all_inner_texts()).split())
        raise AssertionError(
            f'The cheep {text!r} has no button named "Like" (a <button> with aria-label="Like"): it reads {shown!r}.'
        ) from None
    return button


def expect_count(page, text, count, after):
    """Wait until the count under the cheep `text` reads `count`; else say what the page shows."""
    likes = cheep_shown(page, text).locator(".likes")
    try:
        expect(likes).to_have_text(str(count), timeout=ARRIVES)
    except AssertionError:
        if likes.count() == 0:
            raise AssertionError(
                f'{after}, the cheep {text!r} has no element of class "likes" to show its count.'
            ) from None
        raise AssertionError(
            f"{after}, the count under {text!r} reads {likes.first.inner_text()!r}, not {count}, "
            f"within {ARRIVES} ms. The page's status line says {status_of(page)!r}."
        ) from None


def expect_pressed(page, text, pressed, who):
    seen = like_button(page, text).get_attribute("aria-pressed")
    assert seen == str(pressed).lower(), (
        f"{who}, the ♥ button of {text!r} has aria-pressed={seen!r}, not {str(pressed).lower()!r}."
    )


def test_a_like_in_one_window_raises_the_count_in_every_window(server, windows):
    """A like in one window raises the count in every window."""
    a, b = open_live(windows, server), open_live(windows, server)
    text = unique("like me")
    send(a, "Ada", text)  # drawn by the pages' script, not by the server
    for page in (a, b):
        expect_newest(page, "Ada", text)
        expect_count(page, text, 0, "Before anyone liked it")
    like_button(a, text).click()
    for page in (a, b):
        expect_count(page, text, 1, "After one window pressed ♥")
    expect_pressed(a, text, True, "In the window that liked it")
    expect_pressed(b, text, False, "In the other window")
    like_button(b, text).click()
    for page in (a, b):
        expect_count(page, text, 2, "After a second window pressed ♥")


def test_pressing_like_twice_in_one_window_counts_once(server, windows):
    """Pressing Like twice in one window counts once."""
    text = unique("press twice")
    post_cheep(server, "Ada", text)
    a, b = open_live(windows, server), open_live(windows, server)
    like_button(a, text).click()
    like_button(a, text).click()
    # One socket's messages are handled in order: once this cheep reaches b, so have both likes' counts.
    after = unique("after")
    send(a, "Ada", after)
    expect_newest(b, "Ada", after)
    expect_count(b, text, 1, "After one window pressed ♥ twice")
    like_button(b, text).click()
    for page in (a, b):
        expect_count(page, text, 2, "After one window pressed ♥ twice, and another once")


def test_a_page_loads_with_the_stored_counts_and_its_own_likes_pressed(server, windows):
    """A page loads with the stored counts, and with its own likes pressed."""
    text = unique("liked before")
    post_cheep(server, "Ada", text)
    a = open_live(windows, server)
    like_button(a, text).click()
    expect_count(a, text, 1, "After the window pressed ♥")
    later = open_live(windows, server)  # another browser, opened afterwards
    expect_count(later, text, 1, "In a window opened after the like")
    expect_pressed(later, text, False, "In a window of another browser, opened after the like")
    a.reload()
    expect_count(a, text, 1, "After the window that liked it reloaded")
    expect_pressed(a, text, True, "After the window that liked it reloaded")


def test_the_like_buttons_work_from_the_keyboard_and_have_no_serious_accessibility_problems(server, windows):
    """The like buttons work from the keyboard and have no serious accessibility problems."""
    drawn, live = unique("drawn"), unique("live")
    post_cheep(server, "Ada", drawn)
    page = open_live(windows, server)
    send(page, "Grace", live)
    expect_newest(page, "Grace", live)
    like_button(page, drawn).click()
    like_button(page, live).focus()  # a real <button> takes the focus, and Enter presses it
    page.keyboard.press("Enter")
    expect_count(page, live, 1, "After Enter on the focused ♥ button")
    assert serious_violations(page) == []
