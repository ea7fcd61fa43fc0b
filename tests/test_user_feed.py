"""Going further, a user's own feed: /user/Ada shows only Ada's cheeps, and the socket
at /ws?name=Ada gets only hers, live. /ws without a name still gets every cheep."""

import json
import uuid
from urllib.parse import quote, urljoin

import pytest
import requests
import websocket
from bs4 import BeautifulSoup

from app_client import CLOSE, TEXT, post_cheep, receive_json, unique
from test_step1_server import close_politely, vanish

pytestmark = pytest.mark.stage("user-feed")


def person(name):
    """A name no other test uses, and short enough for the form's 32 characters."""
    return f"{name} {uuid.uuid4().hex[:6]}"


def page_of(name):
    """The address of a person's page, the name percent-encoded as encodeURIComponent does."""
    return "/user/" + quote(name, safe="")


def socket_of(name):
    """The address of the socket that gets only this name's cheeps."""
    return "/ws?name=" + quote(name, safe="")


def persons_page(server, name):
    """A person's page, as its HTML reads without a script."""
    response = requests.get(server.url + page_of(name))
    assert response.status_code == 200, (
        f"{page_of(name)}, the page of {name!r}, answered {response.status_code}, not 200."
    )
    return BeautifulSoup(response.text, "html.parser")


def cheeps_shown(page):
    """The text of each cheep in the page's #feed, top to bottom."""
    feed = page.find(id="feed")
    assert feed is not None, 'The page has no element with id="feed" to hold the cheeps.'
    return [" ".join(item.get_text().split()) for item in feed.find_all("li")]


def next_cheeps(client, count, whose):
    """The texts of the next `count` cheeps on a socket; says in words when fewer came."""
    texts = []
    while len(texts) < count:
        try:
            message = receive_json(client)
        except (websocket.WebSocketException, OSError):
            raise AssertionError(
                f"{whose} got {len(texts)} cheeps of the {count} it should have: {texts}, then nothing more."
            ) from None
        if message.get("type") == "cheep":
            texts.append(message["cheep"])
    return texts


def test_the_page_of_a_name_shows_only_its_cheeps_newest_first(server):
    """The page of a name shows only its cheeps, newest first."""
    ada, grace = person("Ada"), person("Grace")
    first, by_grace, then = unique("first"), unique("by Grace"), unique("then")
    post_cheep(server, ada, first)
    post_cheep(server, grace, by_grace)
    post_cheep(server, ada, then)
    shown = " ".join(cheeps_shown(persons_page(server, ada)))
    assert by_grace not in shown, f"Ada's page, {page_of(ada)}, shows a cheep by Grace: {by_grace!r}."
    for text in (first, then):
        assert text in shown, f"Ada's page, {page_of(ada)}, does not show her cheep {text!r}."
    assert shown.index(then) < shown.index(first), "Ada's page shows her newest cheep below an older one."


def test_a_name_with_no_cheeps_yet_gets_an_empty_page_not_a_404(server):
    """A name with no cheeps yet gets an empty page, not a 404."""
    newcomer = person("Newcomer")
    shown = cheeps_shown(persons_page(server, newcomer))
    assert shown == [], f"The page of a name that never cheeped shows {len(shown)} cheeps, the first {shown[0]!r}."


def test_a_name_with_spaces_signs_or_accents_has_its_page_through_percent_encoding(server):
    """A name with spaces, signs or accents has its page, through percent-encoding."""
    for name in (person("Ada Lovelace"), person("Zoë Ä 字"), person("A&B=C+D?#%")):
        text = unique()
        post_cheep(server, name, text)
        shown = " ".join(cheeps_shown(persons_page(server, name)))
        assert text in shown, f"The page of {name!r}, {page_of(name)}, does not show its cheep {text!r}."


def test_each_name_in_the_feed_links_to_the_page_of_that_name(server):
    """Each name in the feed links to the page of that name."""
    for name in (person("Zoë Lovelace"), person("A&B=C+D?#%")):
        text = unique("linked")
        post_cheep(server, name, text)
        feed = BeautifulSoup(requests.get(server.url + "/").text, "html.parser").find(id="feed")
        assert feed is not None, 'The page has no element with id="feed".'
        cheep = next((item for item in feed.find_all("li") if text in item.get_text()), None)
        assert cheep is not None, f"The feed on / does not show the cheep {text!r}."
        link = next((a for a in cheep.find_all("a", href=True) if a.get_text().strip() == name), None)
        assert link is not None, f"In the feed on /, the name {name!r} of a cheep is not a link."
        response = requests.get(urljoin(server.url + "/", link["href"]))
        assert response.status_code == 200, f"The link of {name!r}, {link['href']}, answered {response.status_code}."
        page = BeautifulSoup(response.text, "html.parser")
        assert text in " ".join(cheeps_shown(page)), (
            f"The link of {name!r}, {link['href']}, leads to a page without that name's cheep."
        )


def test_the_page_of_a_name_links_back_to_the_whole_feed(server):
    """The page of a name links back to the whole feed."""
    page = persons_page(server, person("Ada"))
    home = server.url + "/"
    links = [a["href"] for a in page.find_all("a", href=True)]
    assert any(urljoin(home, href) == home for href in links), (
        f"A person's page has no link to /: its links are {links}."
    )


def test_a_name_too_long_is_refused_with_a_reason_on_the_page_and_the_socket(server, connect):
    """A name too long is refused with a reason, on the page and on the socket."""
    name = "A" * 200
    response = requests.get(server.url + page_of(name))
    assert 400 <= response.status_code < 500, f"The page of a name of 200 characters answered {response.status_code}."
    assert "Traceback" not in response.text and 0 < len(response.text.strip()) < 300, (
        f"The page of a name of 200 characters should say why in a sentence. It said: {response.text[:300]!r}"
    )
    reason = refusal(connect(socket_of(name)))
    assert reason, (
        "The socket at /ws?name= and a name of 200 characters stayed open and said nothing: it should "
        'say why, with {"type": "error", "message": ...} or a close frame with a reason.'
    )


def refusal(client):
    """Why the server refused a socket: the message of its error, or the reason of its close
    frame. None when it said nothing, or sent a cheep."""
    try:
        while True:
            opcode, data = client.recv_data(control_frame=True)
            if opcode == CLOSE:
                return data[2:].decode()
            if opcode == TEXT:
                message = json.loads(data)
                return message.get("message") if message.get("type") == "error" else None
    except (websocket.WebSocketException, OSError, ValueError, AttributeError):
        return None


def test_a_live_cheep_reaches_the_sockets_of_its_name_and_no_other(server, connect):
    """A live cheep reaches the sockets of its name, and no other."""
    # A + and an & in a name: the socket's address must encode them, or the server reads another name.
    ada, grace = person("Ada+Lovelace"), person("Grace & Zoë")
    adas, graces = connect(socket_of(ada)), connect(socket_of(grace))
    first, by_grace, then = unique("first"), unique("by Grace"), unique("then")
    post_cheep(server, ada, first)
    post_cheep(server, grace, by_grace)
    post_cheep(server, ada, then)
    # Each socket's cheeps come in order: one that got someone else's shows it before its own.
    got = next_cheeps(graces, 1, f"The socket at {socket_of(grace)}")
    assert got == [by_grace], f"The socket at {socket_of(grace)} got a cheep by someone else first: {got[0]!r}."
    got = next_cheeps(adas, 2, f"The socket at {socket_of(ada)}")
    assert got == [first, then], f"The socket at {socket_of(ada)} got {got}, not only Ada's {[first, then]}."


def test_a_socket_at_ws_with_no_name_still_gets_every_cheep(server, connect):
    """A socket at /ws with no name still gets every cheep."""
    everyone = connect()
    connect(socket_of(person("Ada")))  # Ada's own page is open too
    texts = [unique("by Ada"), unique("by Grace")]
    post_cheep(server, person("Ada"), texts[0])
    post_cheep(server, person("Grace"), texts[1])
    got = next_cheeps(everyone, 2, "The socket at /ws")
    assert got == texts, f"The socket at /ws, with no name, got {got}, not every cheep: {texts}."


@pytest.mark.parametrize("leave", [close_politely, vanish])
def test_when_one_page_of_a_name_leaves_its_other_pages_still_get_its_cheeps(server, connect, leave):
    """When one page of a name leaves, its other pages still get its cheeps."""
    ada = person("Ada")
    leaving, staying, everyone = connect(socket_of(ada)), connect(socket_of(ada)), connect()
    leave(leaving)
    for _ in range(3):
        text = unique()
        post_cheep(server, ada, text)
        assert next_cheeps(everyone, 1, "After one of Ada's pages left, the socket at /ws") == [text]
        assert next_cheeps(staying, 1, "After one of Ada's two pages left, the other") == [text]
    # The last of her pages leaves, and a new one comes: it gets her cheeps too.
    leave(staying)
    coming = connect(socket_of(ada))
    text = unique()
    post_cheep(server, ada, text)
    assert next_cheeps(everyone, 1, "After every page of Ada's left, the socket at /ws") == [text]
    assert next_cheeps(coming, 1, "A page of Ada's, opened after all her pages had left,") == [text]
