"""The long-polling exercise's promises in a real browser (docs/going-further-long-polling.md):
on a network that blocks WebSockets, the page goes live by asking the server again
and again, says so, and shows every cheep once, its own too, across the switch from
its socket. A server that is away for a moment is no blocked network: the page
comes back on a WebSocket.

The network is simulated by a script run before the page's own: once
window.blockSockets is true, every new WebSocket asks the app for a subprotocol
it does not speak, so the browser fails the handshake and the socket closes
before it ever opens, as one does through a proxy that drops the upgrade.
Plain requests still reach the app.
"""

import re

import pytest
from playwright.sync_api import expect

from app_client import post_cheep, stored_with, unique
from browser import feed, open_live, send, unsent
from waits import ARRIVES, BACK

pytestmark = pytest.mark.stage("long-polling")

POLLING = re.compile(r"asking the server again and again.*blocks WebSockets", re.I)
SOCKET_LIVE = re.compile(r"^\s*Live: new cheeps appear")
SWITCHED = 15000  # milliseconds: a page whose sockets fail gives up on them within this


def blocking_script(blocked_from_the_start):
    """The network that blocks WebSockets: see the module's docstring."""
    return f"""
        (() => {{
            const RealWebSocket = window.WebSocket;
            window.blockSockets = {"true" if blocked_from_the_start else "false"};
            window.openedSockets = [];
            function Blockable(url, protocols) {{
                const socket = new RealWebSocket(url, window.blockSockets ? ["blocked-by-the-network"] : protocols);
                window.openedSockets.push(socket);
                return socket;
            }}
            Blockable.prototype = RealWebSocket.prototype;
            Object.assign(Blockable, {{ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 }});
            window.WebSocket = Blockable;
        }})();
    """


def block_sockets(page):
    """From now on, the page's network blocks WebSockets; the one open now drops."""
    page.evaluate("window.blockSockets = true; window.openedSockets.forEach(socket => socket.close())")


def shown_once(page, text, timeout=ARRIVES):
    """The cheep is in the page's feed exactly once, and not shown as "Sending…"."""
    expect(feed(page).filter(has_text=text), f"{text!r} in #feed once").to_have_count(1, timeout=timeout)
    expect(unsent(page).filter(has_text=text), f"{text!r} still shown as sending").to_have_count(0, timeout=timeout)


def test_on_a_network_that_blocks_websockets_the_page_goes_live_by_long_polling_and_says_so(server, windows):
    """On a network that blocks WebSockets, the page goes live by long polling and says so."""
    page = windows.open(server, script=blocking_script(blocked_from_the_start=True))
    expect(page.locator("#status")).to_have_text(POLLING, timeout=SWITCHED)
    other = open_live(windows, server)  # someone on a network that lets sockets through
    by_others = unique("posted by someone else")
    assert post_cheep(server, "Grace", by_others).status_code == 200
    shown_once(page, by_others)
    by_the_page = unique("sent by the long-polling page")
    send(page, "Ada", by_the_page)
    shown_once(page, by_the_page)
    expect(other.get_by_text(by_the_page), "the polling page's cheep on a socket page").to_have_count(
        1, timeout=ARRIVES
    )
    stored = len(stored_with(server, by_the_page))
    assert stored == 1, f"The long-polling page's cheep was stored {stored} times."


def test_no_cheep_is_lost_or_doubled_when_a_live_page_switches_to_long_polling(server, windows):
    """No cheep is lost or doubled when a live page switches to long polling."""
    page = windows.open(server, script=blocking_script(blocked_from_the_start=False))
    expect(page.locator("#status")).to_have_text(SOCKET_LIVE, timeout=BACK)
    before = unique("before the switch")
    post_cheep(server, "Grace", before)
    shown_once(page, before)
    block_sockets(page)
    during = [unique(f"during the switch {n}") for n in range(2)]
    for text in during:
        post_cheep(server, "Grace", text)  # stored while the page has no socket and does not poll yet
    typed = unique("typed during the switch")
    send(page, "Ada", typed)  # waits as "Sending…" until the page polls, then goes by POST
    expect(page.locator("#status")).to_have_text(POLLING, timeout=SWITCHED)
    after = unique("after the switch")
    post_cheep(server, "Grace", after)
    for text in [before, *during, typed, after]:
        shown_once(page, text)
    shown = [text for text in feed(page).all_inner_texts() if "switch" in text]
    order = [before, *during, typed, after][::-1]
    assert [next(t for t in order if t in line) for line in shown] == order, f"#feed shows them out of order: {shown}."
    assert len(stored_with(server, typed)) == 1, "The cheep typed during the switch was not stored exactly once."


def test_a_server_that_restarts_is_no_blocked_network_the_page_comes_back_on_a_websocket(start_server, windows):
    """A server that restarts is no blocked network: the page comes back on a WebSocket."""
    server = start_server()
    page = open_live(windows, server)
    server.stop()
    expect(page.locator("#status")).to_contain_text("Reconnecting", timeout=BACK)
    server.start()
    expect(page.locator("#status")).to_have_text(SOCKET_LIVE, timeout=BACK)
