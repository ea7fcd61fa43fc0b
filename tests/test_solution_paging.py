"""The solution's feed comes a page at a time: the page at / shows the newest 50
cheeps and links to older ones, and GET /api/cheeps answers one page and a Link
header to the next. So a feed of 50,000 cheeps costs what a feed of 50 does."""

import pytest
import requests

from app_client import get_page, newest_id, pages_of

pytestmark = pytest.mark.stage("solution")

LONGEST_PAGE = 200  # cheeps in one answer of /api/cheeps, at most


@pytest.fixture
def feed_of_120(start_feed):
    return start_feed(120)


def texts(cheeps):
    return [cheep["cheep"] for cheep in cheeps]


def numbered(numbers):
    return [f"cheep {number}" for number in numbers]


def test_the_page_shows_the_newest_50_and_links_to_older_pages_that_work_without_javascript(feed_of_120):
    """The page shows the newest 50 cheeps and links to older pages that work without JavaScript."""
    server, seen, address = feed_of_120, [], "/"
    while address:
        page = get_page(server, address)
        seen.append([item.select_one(".text").get_text() for item in page.select("#feed > li")])
        if address != "/":
            assert page.find("a", href="/"), "An older page has no link back to the newest cheeps."
        address = older_link(page)
    assert seen == [numbered(range(120, 70, -1)), numbered(range(70, 20, -1)), numbered(range(20, 0, -1))]


def older_link(page):
    """The address that "Show older cheeps" leads to; None when it is hidden or absent."""
    link = page.find("a", string=lambda text: text and "Show older cheeps" in text)
    if link is None or link.find_parent(attrs={"hidden": True}):
        return None
    return link["href"]


def test_the_api_gives_the_newest_page_then_older_ones_through_its_link_header(feed_of_120):
    """The API gives the newest page, then older ones through its Link header."""
    pages = pages_of(feed_of_120, "/api/cheeps")
    assert [texts(page) for page in pages] == [
        numbered(range(120, 70, -1)),
        numbered(range(70, 20, -1)),
        numbered(range(20, 0, -1)),
    ]


@pytest.mark.parametrize("limit", [1, 7, 120, LONGEST_PAGE])
def test_pages_of_any_size_hold_every_cheep_once_forwards_and_backwards(feed_of_120, limit):
    """Pages of any size hold every cheep once, forwards and backwards."""
    forwards = pages_of(feed_of_120, f"/api/cheeps?since=0&limit={limit}")
    backwards = pages_of(feed_of_120, f"/api/cheeps?before=121&limit={limit}")
    assert all(len(page) <= limit for page in forwards + backwards)
    assert [text for page in forwards for text in texts(page)] == numbered(range(1, 121))
    assert [text for page in backwards for text in texts(page)] == numbered(range(120, 0, -1))


def test_a_catch_up_answers_one_page_and_says_when_more_were_missed(feed_of_120):
    """A catch-up answers one page, and says when more were missed."""
    newest = newest_id(feed_of_120)
    a_few = requests.get(feed_of_120.url + "/api/cheeps", params={"since": newest - 10})
    assert texts(a_few.json()) == numbered(range(111, 121))
    assert "next" not in a_few.links, "A catch-up with nothing more to come has a Link header."

    many = requests.get(feed_of_120.url + "/api/cheeps", params={"since": newest - 60})
    assert texts(many.json()) == numbered(range(61, 111)), "A catch-up should stop after one page."
    assert "next" in many.links, "A catch-up that left cheeps out should say so with a Link header."


@pytest.mark.parametrize(
    "query, reason",
    [
        ("before=abc", '"before" must be a cheep id'),
        ("before=-1", '"before" must be a cheep id'),
        ("before=99999999999999999999", '"before" must be a cheep id'),
        ("since=" + "9" * 5000, '"since" must be a cheep id'),
        ("limit=" + "9" * 5000, '"limit" must be a whole number from 1 to 200.'),
        ("limit=0", '"limit" must be a whole number from 1 to 200.'),
        ("limit=201", '"limit" must be a whole number from 1 to 200.'),
        ("limit=ten", '"limit" must be a whole number from 1 to 200.'),
        ("since=1&before=5", '"since" an id or "before" one, not both'),
    ],
)
def test_a_page_asked_for_wrongly_is_refused_with_the_reason(server, query, reason):
    """A page asked for wrongly is refused with the reason."""
    response = requests.get(f"{server.url}/api/cheeps?{query}")
    assert response.status_code == 400, response.text[:200]
    assert set(response.json()) == {"type", "message"} and response.json()["type"] == "error"
    assert reason in response.json()["message"]


@pytest.mark.parametrize("query", ["before=abc", "before=1.5", "before=%C2%B2"])
def test_an_older_page_asked_for_wrongly_is_refused_with_the_reason(server, query):
    """An older page asked for wrongly is refused with the reason."""
    response = requests.get(f"{server.url}/?{query}")
    assert response.status_code == 400
    assert '"before" must be a cheep id' in response.text


def test_a_feed_of_exactly_two_pages_has_no_third(start_feed):
    """A feed of exactly two pages has no third."""
    server = start_feed(100)
    first = get_page(server, "/")
    assert older_link(first) == "/?before=51"
    second = get_page(server, "/?before=51")
    assert len(second.select("#feed > li")) == 50
    assert older_link(second) is None, "The last page links to an older one."
    assert [len(page) for page in pages_of(server, "/api/cheeps")] == [50, 50]
    assert [len(page) for page in pages_of(server, "/api/cheeps?since=0")] == [50, 50]


def test_an_empty_feed_and_ids_at_either_end_answer_a_page_or_nothing(start_feed):
    """An empty feed, and ids at either end, answer a page or nothing."""
    empty = start_feed(0)
    assert pages_of(empty, "/api/cheeps") == [[]]
    assert get_page(empty, "/").select("#feed > li") == [] and older_link(get_page(empty, "/")) is None
    server = start_feed(120)
    for query in ["before=0", "before=1", "since=120", f"since={2**63 - 1}"]:
        response = requests.get(f"{server.url}/api/cheeps?{query}")
        assert (response.status_code, response.json(), response.links) == (200, [], {}), query
    past_the_newest = pages_of(server, "/api/cheeps?before=9999")
    assert [text for page in past_the_newest for text in texts(page)] == numbered(range(120, 0, -1))
