"""Step 2's promises, as far as a server can see them: the page's scripts.

What the scripts do in a browser is proven by the browser tests.
"""

import re
from urllib.parse import urljoin, urlparse

import pytest
import requests

from app_client import get_page
from vendored import JQUERY, sha256

pytestmark = pytest.mark.stage("step2_client")

# A URL with a host written into it: http://, https://, ws:// or wss:// then a name.
URL_WITH_A_HOST = re.compile(r"\b(?:https?|wss?)://[\w.\-\[\]]+")


def page_resources(server):
    """The URL of every script, stylesheet, image and frame the page loads."""
    page = get_page(server)
    return [
        tag.get("src") or tag.get("href")
        for tag in page.find_all(["script", "link", "img", "iframe", "source", "audio", "video"])
        if tag.get("src") or (tag.name == "link" and tag.get("href"))
    ]


def fetch(server, url):
    response = requests.get(urljoin(server.url + "/", url))
    assert response.status_code == 200, f"{url} answered {response.status_code}."
    return response


def test_the_page_loads_nothing_from_another_host(server):
    """The page loads nothing from another host."""
    for url in page_resources(server):
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc, f"The page loads {url} from elsewhere."
        fetch(server, url)


def test_the_page_loads_jquery_from_the_app_itself(server):
    """The page loads jQuery from the app itself."""
    jquery = [url for url in page_resources(server) if "jquery" in url.lower()]
    assert jquery, "The page loads no jQuery."
    content = fetch(server, jquery[0]).content
    assert sha256(content) == JQUERY["sha256"], f"{jquery[0]} is not the vendored jQuery {JQUERY['version']}."


def test_the_pages_own_scripts_and_styles_name_no_host(server):
    """The page's own scripts and styles name no host."""
    own = [url for url in page_resources(server) if "jquery" not in url.lower()]
    assert any(url.endswith(".js") for url in own), "The page has no script of its own."
    for url in own:
        found = URL_WITH_A_HOST.findall(fetch(server, url).text)
        assert not found, f"{url} names a host: {found}. Use location.host instead."
