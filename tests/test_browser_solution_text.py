"""The solution's promise in a real browser: a name written right to left cannot turn
the cheep beside it around, on the page the server draws and on a cheep that arrives live."""

import uuid

import pytest
from playwright.sync_api import expect

from app_client import post_cheep
from browser import feed, open_live
from waits import ARRIVES

pytestmark = pytest.mark.stage("solution")

# Hebrew, then a cheep that starts with digits. Without isolation the digits join
# the Hebrew run and show left of it: "100 שלום euros to Grace".
NAME = "\u05e9\u05dc\u05d5\u05dd"  # shalom

# Where, on the screen, the whole name and the cheep's first three characters are drawn.
MEASURE = """(cheep) => {
    function box(element, start, end) {
        const range = document.createRange();
        const text = element.firstChild;
        range.setStart(text, start);
        range.setEnd(text, end === undefined ? text.length : end);
        const { left, right, top } = range.getBoundingClientRect();
        return { left, right, top };
    }
    return { name: box(cheep.querySelector(".name"), 0), digits: box(cheep.querySelector(".text"), 0, 3) };
}"""


def assert_the_digits_stay_after_the_name(page, text):
    cheep = feed(page).filter(has_text=text)
    expect(cheep).to_have_count(1, timeout=ARRIVES)
    where = cheep.evaluate(MEASURE)
    name, digits = where["name"], where["digits"]
    assert abs(digits["top"] - name["top"]) < 5, f"The name and the cheep are not on one line: {where}"
    assert digits["left"] >= name["right"] - 1, (
        f"The cheep's first digits show left of the right-to-left name beside it: {where}. "
        "Draw each name and cheep in its own <bdi>."
    )


def a_cheep():
    return f"100 euros to Grace {uuid.uuid4().hex[:6]}"


def test_a_right_to_left_name_does_not_turn_a_live_cheep_around(server, windows):
    """A right-to-left name does not turn a live cheep around."""
    page = open_live(windows, server)
    text = a_cheep()
    post_cheep(server, NAME, text)
    assert_the_digits_stay_after_the_name(page, text)


def test_a_right_to_left_name_does_not_turn_a_cheep_around_on_the_page_the_server_draws(server, windows):
    """A right-to-left name does not turn a cheep around on the page the server draws."""
    text = a_cheep()
    post_cheep(server, NAME, text)
    page = windows.open(server, javascript=False)  # the page as the server drew it, and only that
    assert_the_digits_stay_after_the_name(page, text)
