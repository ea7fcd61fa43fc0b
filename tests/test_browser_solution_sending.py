"""The solution's promise in a real browser that a cheep typed is never lost: it shows
as "Sending…" until the server has stored it, and is sent again, with the same key,
on every new socket until then; offline, across a reload, a closed tab and a server
that died before its answer arrived. Each cheep is stored once and shown once."""

import time
from contextlib import suppress
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from app_client import MESSAGE_LIMIT, ONE_PERSON_PER_ADDRESS, cheeps_since, post_cheep, stored_with, unique, wait_until
from browser import LIVE, RECONNECTING, feed, open_live, open_live_counting_frames, send, unsent
from waits import ARRIVES, BACK, WAIT

pytestmark = pytest.mark.stage("solution")

NOTICED = 10000  # milliseconds: a socket that answers nothing is given up within this


def times_stored(server, text):
    return len(stored_with(server, text))


def wait_while_routing(page, condition, seconds=WAIT):
    """wait_until(), for a page whose sockets a route handler passes on: the handler
    runs only while Playwright is called, so wait with the page, not with time.sleep()."""
    deadline = time.monotonic() + seconds
    while not (result := condition()) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return result


def shown_once_as_stored(page, text):
    """The cheep is in the page's feed once, and no longer shown as sending."""
    expect(feed(page).filter(has_text=text)).to_have_count(1, timeout=BACK)
    expect(page.get_by_text(text)).to_have_count(1)
    expect(unsent(page).filter(has_text=text)).to_have_count(0)


def test_cheeps_typed_offline_show_as_sending_and_arrive_once_each_when_back_online(server, windows):
    """Cheeps typed offline show as "Sending…" and arrive once each when back online."""
    a, b = open_live(windows, server), open_live(windows, server)
    a.context.set_offline(True)  # the socket still looks open, and drops what it is sent
    texts = [unique(f"offline {n}") for n in range(3)]
    for text in texts:
        send(a, "Ada", text)
    expect(unsent(a)).to_have_count(3)
    for text in texts:
        expect(unsent(a).filter(has_text=text)).to_contain_text("Sending")
    expect(a.locator("#status")).to_contain_text(RECONNECTING, timeout=NOTICED)
    a.context.set_offline(False)
    for text in texts:
        shown_once_as_stored(a, text)
        expect(b.get_by_text(text)).to_have_count(1, timeout=ARRIVES)
    stored = [cheep["cheep"] for cheep in cheeps_since(server, 0)]
    assert [text for text in stored if text in texts] == texts, "Stored twice, lost, or out of the order typed."


def test_the_page_notices_by_itself_a_connection_that_went_silent(server, windows):
    """The page notices by itself a connection that went silent."""
    page = open_live(windows, server)
    page.clock.install()  # the page's clock, moved on by the test: no need to wait 20 s
    page.context.set_offline(True)

    def noticed():
        page.clock.fast_forward(1000)
        return RECONNECTING.search(page.locator("#status").inner_text())

    assert wait_until(noticed, 10), "The page still says it is live on a connection that answers nothing."
    page.context.set_offline(False)
    expect(page.locator("#status")).to_have_text(LIVE, timeout=BACK)


class DeadNetwork:
    """Hand to windows.open(sockets=...). Until it is mended, each socket the page opens
    looks open, and what the page sends on it goes nowhere: a network that died
    without a word. Unlike an offline browser, it can never deliver it later."""

    def __init__(self):
        self.mended = False

    def __call__(self, route):
        if self.mended:
            route.connect_to_server()  # messages pass both ways

    def mend(self):
        self.mended = True


def test_a_cheep_the_server_never_heard_survives_a_reload_and_is_sent_once(server, windows):
    """A cheep the server never heard survives a reload and is sent once."""
    network = DeadNetwork()
    a = windows.open(server, sockets=network)
    expect(a.locator("#status")).to_have_text(LIVE)
    b = open_live(windows, server)
    text = unique("reloaded")
    send(a, "Ada", text)
    expect(unsent(a).filter(has_text=text)).to_contain_text("Sending")
    a.reload()
    expect(unsent(a).filter(has_text=text)).to_contain_text("Sending"), "The reload lost the unsent cheep."
    network.mend()
    shown_once_as_stored(a, text)
    expect(b.get_by_text(text)).to_have_count(1, timeout=ARRIVES)
    assert times_stored(server, text) == 1


def a_tab_with_a_cheep_unsent(windows, server, text):
    """A live window on a dead network, where `text` was sent and never arrived."""
    network = DeadNetwork()
    tab = windows.open(server, sockets=network)
    expect(tab.locator("#status")).to_have_text(LIVE)
    send(tab, "Ada", text)
    expect(unsent(tab)).to_have_count(1)
    return tab, network


def test_a_cheep_left_in_a_closed_tab_is_sent_by_the_next_page_that_opens(server, windows):
    """A cheep left in a closed tab is sent by the next page that opens."""
    text = unique("closed tab")
    a, network = a_tab_with_a_cheep_unsent(windows, server, text)
    again = a.context.new_page()  # another tab in the same browser, blank for now
    with a.expect_event("close"):
        a.close(run_before_unload=True)  # as a person closes a tab: it may say goodbye
    network.mend()
    again.goto(server.url + "/")
    shown_once_as_stored(again, text)
    assert times_stored(server, text) == 1


def test_a_cheep_whose_answer_died_with_the_server_is_stored_once_and_shown_once(start_server, windows):
    """A cheep whose answer died with the server is stored once and shown once."""
    server = start_server()
    text = unique("answer lost")
    routes = []

    def sockets(route):
        routes.append(route)
        to_server = route.connect_to_server()
        route.on_message(to_server.send)
        to_server.on_message(lambda message: answer(route, message))

    def answer(route, message):
        if route is routes[0] and text in message:
            return  # the first socket's answer to this cheep never arrives
        route.send(message)

    a = windows.open(server, sockets=sockets)
    expect(a.locator("#status")).to_have_text(LIVE)
    send(a, "Ada", text)
    assert wait_while_routing(a, lambda: times_stored(server, text)), "The cheep was never stored."
    server.crash()  # stored, and the page never heard so: it still shows it as sending
    expect(unsent(a).filter(has_text=text)).to_contain_text("Sending")
    server.start()
    shown_once_as_stored(a, text)
    b = open_live(windows, server)
    expect(b.get_by_text(text)).to_have_count(1)
    assert times_stored(server, text) == 1


def test_a_cheep_typed_while_the_page_is_reconnecting_is_sent_when_the_server_is_back(start_server, windows):
    """A cheep typed while the page is reconnecting is sent when the server is back."""
    server = start_server()
    a = open_live(windows, server)
    server.stop()
    expect(a.locator("#status")).to_contain_text(RECONNECTING)
    text = unique("while away")
    send(a, "Ada", text)
    expect(unsent(a).filter(has_text=text)).to_contain_text("Sending")
    expect(a.locator("#error")).to_be_empty()
    server.start()
    shown_once_as_stored(a, text)
    b = open_live(windows, server)
    expect(b.get_by_text(text)).to_have_count(1)


def test_a_refused_cheep_stops_sending_says_why_and_is_never_sent_again_and_edit_gives_it_back(start_server, windows):
    """A refused cheep stops sending, says why and is never sent again, and Edit gives it back."""
    server = start_server()
    a, frames = open_live_counting_frames(windows, server)
    a.evaluate("document.getElementById('cheep').removeAttribute('maxlength')")  # an old or doctored page
    too_long = "y" * 77
    send(a, "Ada", too_long)
    expect(a.locator("#error")).to_contain_text("76")
    expect(unsent(a).filter(has_text=too_long)).to_contain_text("Not sent")
    expect(feed(a).filter(has_text=too_long)).to_have_count(0)
    server.restart()  # a new socket, which would send again anything still unsent
    expect(a.locator("#status")).to_have_text(LIVE, timeout=BACK)
    text = unique("after")
    send(a, "Ada", text)
    shown_once_as_stored(a, text)
    assert sum(too_long in frame for frame in frames) == 1, "The refused cheep was sent again."
    unsent(a).get_by_role("button", name="Edit").click()
    assert a.input_value("#cheep") == too_long, "Edit did not give the refused cheep's text back."
    expect(unsent(a)).to_have_count(0)


def test_a_cheep_too_big_for_the_socket_is_not_sent_again_and_the_page_goes_on(server, windows):
    """A cheep too big for the socket is not sent again, and the page goes on."""
    a, frames = open_live_counting_frames(windows, server)
    a.evaluate("document.getElementById('cheep').removeAttribute('maxlength')")
    huge = "z" * (MESSAGE_LIMIT + 1)  # over the bytes of one message: the server closes the socket
    send(a, "Ada", huge)
    expect(unsent(a).filter(has_text=huge)).to_contain_text("Not sent: Message too big")
    expect(a.locator("#status")).to_have_text(LIVE, timeout=BACK)
    text = unique("after the big one")
    send(a, "Ada", text)
    shown_once_as_stored(a, text)
    assert sum(huge in frame for frame in frames) == 1, "The cheep too big was sent again."


def test_twelve_cheeps_typed_offline_all_arrive_once_though_only_ten_may_go_at_once(start_server, windows):
    """Twelve cheeps typed offline all arrive once, though only ten may go at once."""
    server = start_server(env=ONE_PERSON_PER_ADDRESS)
    a = open_live(windows, server)
    a.context.set_offline(True)
    texts = [unique(f"queued {n}") for n in range(12)]
    for text in texts:
        send(a, "Ada", text)
    expect(unsent(a)).to_have_count(12)
    expect(a.locator("#status")).to_contain_text(RECONNECTING, timeout=NOTICED)
    a.context.set_offline(False)
    for text in texts:
        shown_once_as_stored(a, text)
    stored = [cheep["cheep"] for cheep in cheeps_since(server, 0)]
    assert all(stored.count(text) == 1 for text in texts)


def test_a_cheep_left_by_a_tab_that_crashed_is_sent_by_a_page_opened_later(server, windows):
    """A cheep left by a tab that crashed is sent by a page opened later."""
    text = unique("crashed tab")
    a, network = a_tab_with_a_cheep_unsent(windows, server, text)
    context = a.context
    again = context.new_page()
    with a.expect_event("crash"), suppress(PlaywrightError):  # a crashed tab never answers
        context.new_cdp_session(a).send("Page.crash", timeout=1000)  # no pagehide: the tab just dies
    a.close()  # its crashed window, closed
    network.mend()
    # Two minutes later, by the new tab's clock: that tab has long been gone.
    again.clock.install(time=datetime.now() + timedelta(minutes=2))
    again.goto(server.url + "/")
    shown_once_as_stored(again, text)
    assert times_stored(server, text) == 1


def test_a_socket_that_brings_cheeps_but_loses_what_the_page_sends_is_replaced(server, windows):
    """A socket that brings cheeps but loses what the page sends is replaced."""
    sockets = []

    def one_way(route):
        """The first socket brings the server's messages and loses the page's."""
        sockets.append(route)
        to_server = route.connect_to_server()
        to_server.on_message(route.send)
        route.on_message(lambda message: None if route is sockets[0] else to_server.send(message))

    a = windows.open(server, sockets=one_way)
    expect(a.locator("#status")).to_have_text(LIVE)
    text = unique("lost on the way up")
    send(a, "Ada", text)

    def stored_while_others_cheep():
        post_cheep(server, "Grace", unique("meanwhile"))  # the page keeps hearing from the server
        return times_stored(server, text)

    assert wait_while_routing(a, stored_while_others_cheep, 20), (
        "The page kept waiting on a socket that lost its cheep."
    )
    shown_once_as_stored(a, text)
    assert len(sockets) == 2
