"""A real browser for the tests: Chromium or Chrome, driven by Playwright."""

import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlparse

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app_client import instructor_link
from waits import ARRIVES
from workshop.crashes import AFTER_A_POST, PAGE_ERROR

# --no-sandbox: Chromium refuses its sandbox when run as root, as CI does.
# The rest keep it from phoning home, which a closed network refuses anyway.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NAMES_ON_PATH = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"]
# Without windows on the screen, Chromium's headless shell (Debian's chromium-headless-shell,
# what Playwright itself runs headless) does the same work: a new window costs it about a
# sixth of the CPU time, and make test opens a great many.
HEADLESS_SHELL = "chromium-headless-shell"
HOW_TO_GET_ONE = (
    "No browser for the browser tests. Install Chromium or Google Chrome, or run "
    "'.venv/bin/python -m playwright install chromium', or set CHEEPER_CHROMIUM "
    "to the path of a Chromium or Chrome."
)
WINDOW_SIZE = {"width": 520, "height": 600}


def find_chromium(playwright, headless_shell=True):
    """CHEEPER_CHROMIUM, else Chromium's headless shell (when it will do), Chromium or
    Chrome on the PATH, else Playwright's own."""
    if os.environ.get("CHEEPER_CHROMIUM"):
        return os.environ["CHEEPER_CHROMIUM"]
    for name in [HEADLESS_SHELL, *NAMES_ON_PATH] if headless_shell else NAMES_ON_PATH:
        if shutil.which(name):
            return shutil.which(name)
    own = playwright.chromium.executable_path
    return own if Path(own).exists() else None


class Windows:
    """Browser windows on the app, each in a context of its own: a different person.

    A request to any host but the app's own is blocked, and remembered in
    foreign_requests, which a test can check is empty. socket_urls lists the
    URL of every WebSocket the pages opened.
    """

    def __init__(self, browser):
        self.browser = browser
        self.contexts = []
        self.foreign_requests = []
        self.socket_urls = []
        self.page_errors = []  # errors the pages' JavaScript stopped with, for a failed test's report

    def open(self, server, javascript=True, sockets=None, address="/", script=None):
        """A window on the app's page at `address`. `sockets`, a function, is handed each WebSocket
        the page opens to /ws (Playwright's WebSocketRoute): it can hold, drop or pass messages.
        `script`, JavaScript, runs in the page before the page's own scripts."""
        context = self.browser.new_context(viewport=WINDOW_SIZE, java_script_enabled=javascript)
        self.contexts.append(context)
        if script:
            context.add_init_script(script)
        app_host = urlparse(server.url).netloc
        context.route("**/*", lambda route: self.allow_app_only(route, app_host))
        if sockets:
            context.route_web_socket("**/ws", sockets)
        page = context.new_page()
        page.socket_errors = []  # sockets that failed or closed: see expect_live()
        page.frames_sent = []  # what the page sent on its sockets: see expect_stayed()
        page.posting = page.posted_itself = False  # whether its form posted itself: see allow_app_only()
        page.on("framenavigated", lambda frame: self.navigated(page, frame))
        page.on("websocket", lambda socket: self.opened_socket(socket, app_host, page))
        page.errors = []  # what its JavaScript stopped with: see expect_live()
        page.on("pageerror", lambda error: self.page_error(page, error))
        page.goto(server.url + address)
        return page

    def page_error(self, page, error):
        page.errors.append(f"{error.name}: {error.message}".splitlines()[0])
        after = f"\n{AFTER_A_POST}" if page.posted_itself else ""
        self.page_errors.append(f"{PAGE_ERROR} {error.stack or error}{after}")

    def allow_app_only(self, route, app_host):
        request = route.request
        if request.is_navigation_request() and request.frame == request.frame.page.main_frame:
            # A POST that loads a page is the form posting itself; a GET, a test's goto() or
            # reload(). Playwright tells the new page (navigated) before any error in it.
            request.frame.page.posting = request.method == "POST"
        if self.check_host(request.url, app_host):
            route.continue_()
        else:
            route.abort()

    def navigated(self, page, frame):
        if frame == page.main_frame:
            page.posted_itself = page.posting  # errors from now on are the new page's

    def opened_socket(self, socket, app_host, page):
        self.socket_urls.append(socket.url)
        self.check_host(socket.url, app_host)
        socket.on("socketerror", lambda error: page.socket_errors.append(f"{socket.url}: {error}"))
        socket.on("close", lambda closed: page.socket_errors.append(f"{socket.url} closed"))
        socket.on("framesent", lambda frame: page.frames_sent.append(frame))

    def check_host(self, url, app_host):
        if urlparse(url).netloc == app_host:
            return True
        self.foreign_requests.append(url)
        return False

    def close(self):
        for context in self.contexts:
            context.close()


LIVE = re.compile(r"^\s*Live")  # the status line once the socket is open
RECONNECTING = re.compile("reconnecting", re.I)  # and while it tries to open one again


def open_live(windows, server, address="/"):
    """A window on the app (its page at `address`) whose socket is open. window.stayed
    marks this page load: it is gone if the page reloads or navigates."""
    page = windows.open(server, address=address)
    expect_live(page)
    page.evaluate("window.stayed = true")
    return page


def expect_live(page, timeout=5000):
    """Wait until the page says its socket is open. When it cannot (its handshake failed,
    its script stopped or is missing, it has no #status), fail at once and say why: no
    page of this app can go live, so no promise that needs one should wait out its time."""
    deadline = time.monotonic() + timeout / 1000
    while not LIVE.match(status := status_of(page)):
        assert not (problem := why_it_cannot_go_live(page)), problem
        assert time.monotonic() < deadline, (
            f"The page never said it was live within {timeout} ms: #status says {status!r}."
        )
        page.wait_for_timeout(20)


def status_of(page):
    """What #status says; "" when the page has none."""
    status = page.locator("#status")
    return (status.text_content() or "") if status.count() else ""


def why_it_cannot_go_live(page):
    """Why this page will never say it is live, when that is sure already; else None."""
    if page.socket_errors:  # before the page went live: it will not, in time
        return f"The page's WebSocket failed before the page said it was live: {page.socket_errors[0]}."
    if page.errors:
        return f"The page never went live: its JavaScript stopped with an error, {page.errors[0]}"
    scripts = page.evaluate("Array.from(document.scripts, script => script.getAttribute('src'))")
    if not any(source and source.endswith("/cheeper.js") for source in scripts):
        return f"The page never went live: it loads no cheeper.js (its scripts: {scripts})."
    if page.locator("#status").count() == 0:
        return 'The page never said it was live: it has no element with id="status" to say it in.'
    return None


def open_as_instructor(windows, server, address="/"):
    """A window that opened the instructor's link, then the page at `address`; live, when that is the feed."""
    page = windows.open(server)
    page.goto(instructor_link(server))  # which leads on to the feed
    if address == "/":
        expect_live(page)
    else:
        page.goto(server.url + address)
    return page


def serious_violations(page):
    """What axe-core finds wrong with the page, serious or critical, in words."""
    violations = Axe().run(page).response["violations"]
    return [
        f"{violation['impact']}: {violation['help']} ({[node['target'] for node in violation['nodes']]})"
        for violation in violations
        if violation["impact"] in ("serious", "critical")
    ]


def open_live_counting_frames(windows, server):
    """A live window, and the list of every frame its sockets send, filled as they go."""
    page = open_live(windows, server)
    return page, page.frames_sent


def pause_clock(page):
    """Hold the page's clock: its timers, and the frames it draws with
    requestAnimationFrame, wait until page.clock.resume() or run_for()."""
    page.clock.install()
    page.clock.pause_at(page.evaluate("Date.now()") + 10)


def send(page, name, cheep, key=None):
    page.fill("#name", name)
    page.fill("#cheep", cheep)
    if key:
        page.press("#cheep", key)
    else:
        page.click("#cheep-form button")


def feed(page):
    return page.locator("#feed > li")


def expect_newest(page, name, text, timeout=ARRIVES):
    """Wait until the newest cheep in the feed shows `text`; else say what the page shows."""
    try:
        expect(feed(page).first).to_contain_text(text, timeout=timeout)
    except AssertionError:
        expect_stayed(page)  # a page that reloaded shows what the server drew: say that first
        shown = feed(page).all_inner_texts()
        if not shown:
            raise AssertionError(f"No cheep appeared in #feed within {timeout} ms of sending {text!r}.") from None
        newest = " ".join(shown[0].split())
        its_text = feed(page).first.locator(".text")
        if name in newest and its_text.count() and its_text.first.inner_text().strip() in ("", "undefined"):
            raise AssertionError(
                f"A cheep from {name} appeared in #feed without its text: it reads {newest!r}, not {text!r}."
            ) from None
        raise AssertionError(
            f"{text!r} did not appear in #feed within {timeout} ms: its newest cheep reads {newest!r}."
        ) from None


def expect_stayed(page, action="Sending a cheep"):
    """The page did not reload (window.stayed, set by open_live, is still there); if it did,
    say whether the form's submit handler had sent the cheep on the socket first."""
    if page.evaluate("window.stayed") is True:
        return
    if any("cheep" in str(frame) for frame in page.frames_sent):
        raise AssertionError(
            f"{action} reloaded the page, after the page had sent it on its socket: the form also posted itself."
        )
    raise AssertionError(
        f"{action} reloaded the page, and the page sent nothing on its socket: "
        "the form's submit handler never ran, and the browser posted the form itself."
    )


def unsent(page):
    """The solution's cheeps shown as "Sending…": typed, and not stored yet."""
    return page.locator("#unsent > li")
