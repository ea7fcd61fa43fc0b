"""Going further, a user's own feed, in a real browser: a person's page goes live,
and shows only their cheeps as they arrive."""

from urllib.parse import urljoin

import pytest
import requests
from playwright.sync_api import expect

from app_client import post_cheep, unique
from browser import expect_newest, expect_stayed, feed, open_live, send
from test_user_feed import page_of, person, persons_page

pytestmark = pytest.mark.stage("user-feed")


def open_persons_page(windows, server, name):
    """A live window on a person's page, once the server answers it (a page that is
    missing cannot go live, and the test says so first)."""
    persons_page(server, name)
    return open_live(windows, server, page_of(name))


def test_a_live_cheep_appears_on_the_page_of_its_name_and_not_on_the_page_of_another(server, windows):
    """A live cheep appears on the page of its name, and not on the page of another name."""
    ada, grace = person("Ada Lovelace"), person("Grace & Zoë")
    everyone = open_live(windows, server)
    adas, graces = open_persons_page(windows, server, ada), open_persons_page(windows, server, grace)
    by_ada, by_grace, then = unique("by Ada"), unique("by Grace"), unique("Ada again")
    send(everyone, ada, by_ada)
    send(everyone, grace, by_grace)
    # A page shows cheeps in the order they came: once Grace's is there, Ada's,
    # sent before it, would be there too if her page had been sent it.
    expect_newest(graces, grace, by_grace)
    assert graces.get_by_text(by_ada).count() == 0, (
        f"Grace's page, {page_of(grace)}, showed a cheep by someone else as it arrived: {by_ada!r}."
    )
    send(everyone, ada, then)
    expect_newest(adas, ada, then)
    assert adas.get_by_text(by_grace).count() == 0, (
        f"Ada's page, {page_of(ada)}, showed a cheep by someone else as it arrived: {by_grace!r}."
    )
    expect(adas.get_by_text(by_ada)).to_have_count(1)
    expect_newest(everyone, ada, then)
    for page in (adas, graces):
        expect_stayed(page, "A cheep arriving")


def test_a_name_in_a_cheep_that_arrives_live_links_to_its_page_which_goes_live(server, windows):
    """The name in a cheep that arrives live links to its page, and that page goes live."""
    zoe = person("Zoë Ä+1")
    everyone = open_live(windows, server)
    first = unique("first")
    send(everyone, zoe, first)
    expect_newest(everyone, zoe, first)
    link = feed(everyone).first.get_by_role("link", name=zoe, exact=True)
    assert link.count() == 1, f"In a cheep that arrived live, the name {zoe!r} is not a link."
    address = urljoin(server.url + "/", link.get_attribute("href"))
    assert address.startswith(server.url + "/"), f"The name {zoe!r} links to another site: {address}."
    answer = requests.get(address)
    assert answer.status_code == 200, (
        f"The link of {zoe!r} in a cheep that arrived live, {address}, answered {answer.status_code}."
    )
    zoes = open_live(windows, server, address.removeprefix(server.url))
    expect(feed(zoes).first).to_contain_text(first)
    then = unique("then")
    post_cheep(server, zoe, then)
    expect_newest(zoes, zoe, then)


def test_the_page_of_a_name_with_no_cheeps_yet_goes_live_and_shows_the_first(server, windows):
    """The page of a name with no cheeps yet goes live and shows the first one."""
    newcomer = person("Newcomer")
    page = open_persons_page(windows, server, newcomer)
    expect(feed(page)).to_have_count(0)
    text = unique("first ever")
    post_cheep(server, newcomer, text)
    expect_newest(page, newcomer, text)
