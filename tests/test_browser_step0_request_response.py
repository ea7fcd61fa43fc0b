"""Step 0's promises in a real browser. Every later stage keeps them."""
import pytest
from playwright.sync_api import expect

from app_client import post_cheep, unique


def test_without_javascript_submitting_the_form_posts_and_shows_the_cheep(server, windows):
    # Without JavaScript every stage's page is step 0's: the form posts, the page reloads.
    page = windows.open(server, javascript=False)
    text = unique("reloaded")
    page.fill("input[name=name]", "Ada")
    page.fill("input[name=cheep]", text)
    with page.expect_navigation():
        page.click("button[type=submit], input[type=submit]")
    assert page.url == server.url + "/"
    expect(page.get_by_text(text)).to_be_visible()


@pytest.mark.screenshot
def test_a_browser_shows_the_page_and_its_cheeps(start_server, windows, screenshot_folder, app_dir):
    server = start_server()
    for name, cheep in [("Ada", "Hello, Cheeper!"), ("Grace", "Is anyone else here?")]:
        post_cheep(server, name, cheep)
    page = windows.open(server)
    page.fill("input[name=name]", "Linus")
    expect(page.get_by_text("Is anyone else here?")).to_be_visible()
    page.screenshot(path=screenshot_folder / f"{app_dir.name}-page.png")
