"""The rooms exercise's promises in a real browser (docs/going-further-rooms.md): a
room's page goes live on its own socket, a cheep typed there reaches that room's
windows and no others, the page links to the rooms in use, the form works without
JavaScript, and a cheep not sent yet is only ever sent to its own room."""

import pytest
from playwright.sync_api import expect

from app_client import cheeps_since, unique
from browser import LIVE, expect_live, expect_newest, feed, send, serious_violations, unsent
from test_browser_solution_sending import DeadNetwork, shown_once_as_stored
from test_rooms import new_room, room_cheeps, texts

pytestmark = pytest.mark.stage("rooms")


def open_room(windows, server, room, **options):
    """A window on a room's page; live, when it runs its script."""
    page = windows.open(server, **options)
    page.goto(f"{server.url}/r/{room}")
    if options.get("javascript", True):
        expect_live(page)
        page.evaluate("window.stayed = true")  # see browser.expect_stayed()
    return page


def shown(page):
    return " ".join(feed(page).all_inner_texts())


def test_a_cheep_typed_in_a_room_appears_in_its_windows_and_in_no_other_room(server, windows):
    """A cheep typed in a room appears in that room's windows and in no other room."""
    room, other = new_room(), new_room()
    ada, grace = open_room(windows, server, room), open_room(windows, server, room)
    elsewhere = [open_room(windows, server, other), windows.open(server)]
    expect_live(elsewhere[1])
    text = unique("in the room")
    send(ada, "Ada", text)
    expect_newest(grace, "Ada", text)
    for page in elsewhere:  # a cheep of their own, sent after: when it shows, the room's would have too
        marker = unique("marker")
        send(page, "Linus", marker)
        expect_newest(page, "Linus", marker)
        assert text not in shown(page), f"A cheep of room {room} appeared on the page at {page.url}."


def test_the_page_names_its_room_and_links_to_the_rooms_in_use(server, windows):
    """The page names its room and links to the rooms in use."""
    room = new_room()
    page = open_room(windows, server, room)
    expect(page.locator("main")).to_contain_text(room)
    send(page, "Ada", unique("counted"))
    expect(feed(page)).to_have_count(1)
    page.get_by_role("link", name="Rooms in use").click()
    link = page.get_by_role("link", name=room, exact=True)
    expect(page.get_by_role("listitem").filter(has=link)).to_contain_text("1 cheep")
    link.click()
    expect(page.locator("#status")).to_have_text(LIVE)
    assert page.url == f"{server.url}/r/{room}"


def test_the_page_of_a_room_and_the_list_of_rooms_have_no_serious_accessibility_problems(server, windows):
    """The page of a room and the list of rooms have no serious accessibility problems."""
    room = new_room()
    page = open_room(windows, server, room)
    send(page, "Ada", unique("for the list"))
    expect(feed(page)).to_have_count(1)
    assert serious_violations(page) == [], f"On the page of a room, axe found: {serious_violations(page)}"
    page.goto(server.url + "/rooms")
    assert serious_violations(page) == [], f"On /rooms, axe found: {serious_violations(page)}"


def test_without_javascript_the_form_posts_into_the_room_and_comes_back_to_it(server, windows):
    """Without JavaScript, the form posts into the room and comes back to it."""
    room, text = new_room(), unique("no script")
    page = open_room(windows, server, room, javascript=False)
    send(page, "Ada", text)
    expect(feed(page).first).to_contain_text(text)
    assert page.url == f"{server.url}/r/{room}", f"After the form's POST the window shows {page.url}."
    assert texts(room_cheeps(server, room)) == [text]


def test_a_cheep_left_unsent_in_a_room_is_sent_by_the_next_page_of_that_room_and_no_other(server, windows):
    """A cheep left unsent in a room is sent by the next page of that room, and by no other."""
    room, text = new_room(), unique("left in a room")
    network = DeadNetwork()
    tab = windows.open(server, sockets=network)
    tab.goto(f"{server.url}/r/{room}")
    expect(tab.locator("#status")).to_have_text(LIVE)
    send(tab, "Ada", text)
    expect(unsent(tab)).to_have_count(1)
    again = tab.context.new_page()  # another tab in the same browser
    with tab.expect_event("close"):
        tab.close(run_before_unload=True)
    network.mend()
    again.goto(server.url + "/")  # the shared room: it must leave the cheep for its own room
    expect(again.locator("#status")).to_have_text(LIVE)
    marker = unique("marker")
    send(again, "Bo", marker)  # on the same socket, after anything it sent as it opened
    expect_newest(again, "Bo", marker)
    assert text not in texts(cheeps_since(server, 0)), "A page of the shared room sent a cheep typed in a room."
    again.goto(f"{server.url}/r/{room}")
    shown_once_as_stored(again, text)
    assert texts(room_cheeps(server, room)) == [text]
