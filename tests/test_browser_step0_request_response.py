"""Step 0's promises in a real browser. Every later stage keeps them."""

import pytest

from app_client import post_cheep, unique

pytestmark = pytest.mark.stage("step0_request_response")


def test_without_javascript_submitting_the_form_posts_and_shows_the_cheep(server, windows):
    """Without JavaScript, submitting the form posts the cheep and shows it."""
    # Without JavaScript every stage's page is step 0's: the form posts, the page reloads.
    page = windows.open(server, javascript=False)
    text = unique("reloaded")
    page.fill("input[name=name]", "Ada")
    page.fill("input[name=cheep]", text)
    with page.expect_navigation():
        page.click("button[type=submit], input[type=submit]")
    assert page.url == server.url + "/"
    # The server drew the page with the cheep in it: no need to wait for it.
    assert page.get_by_text(text).is_visible(), f"The page the form led back to does not show {text!r}."


@pytest.mark.screenshot
def test_a_browser_shows_the_page_and_its_cheeps(start_server, windows, screenshot_folder, app_dir):
    """A browser shows the page and its cheeps."""
    server = start_server()
    for name, cheep in [("Ada", "Hello, Cheeper!"), ("Grace", "Is anyone else here?")]:
        post_cheep(server, name, cheep)
    page = windows.open(server)
    page.fill("input[name=name]", "Linus")
    assert page.get_by_text("Is anyone else here?").is_visible(), "The page does not show the cheeps posted."
    page.screenshot(path=screenshot_folder / f"{app_dir.name}-page.png")
