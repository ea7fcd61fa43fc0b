"""What every stage's tests share: which app they run against, and its server.

Each test file holds the promises of one stage, and says which at its top:

    pytestmark = pytest.mark.stage("step1_server")

A later stage keeps every earlier promise, so each test runs against its own stage
and every later one. An exercise of docs/going-further.md is a stage too: the
promises marked "rooms" are checked against answers/rooms/ (made from
answers/rooms.patch) and no other stage. A file without the mark (test_docs.py)
checks the project itself, once.

By default the tests check the reference folders. To check another folder,
name it and the stage it should have reached:

    CHEEPER_APP=workspace CHEEPER_STAGE=step1 pytest
"""

import os
import socket
import sys
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from app_client import post_json
from browser import HOW_TO_GET_ONE, LAUNCH_ARGS, Windows, find_chromium
from server_process import ServerProcess
from services import Nginx, RedisServer, missing
from workshop.answers import DoesNotApply, make_answer
from workshop.stages import NAMES, STAGES, folder_of, is_exercise, kept_stages, stage_index


def apps_under_test():
    """[(folder, stage)]: the reference stages and the exercises' answers, or the one
    folder in CHEEPER_APP."""
    app = os.environ.get("CHEEPER_APP")
    if not app:
        return [(folder_of(index), index) for index in range(len(NAMES))]
    folder = Path(app).resolve()
    if not (folder / "server.py").is_file():
        raise pytest.UsageError(f"CHEEPER_APP={app}: there is no server.py in {folder}.")
    try:
        return [(folder, stage_index(os.environ.get("CHEEPER_STAGE") or folder.name))]
    except ValueError as error:
        raise pytest.UsageError(f"Set CHEEPER_STAGE to the stage {app} should have reached. {error}") from None


def stage_of(node):
    """The stage whose promises a test (or a test file) holds: its pytest.mark.stage, or None."""
    marker = node.get_closest_marker("stage")
    if marker is None:
        return None
    try:
        return stage_index(marker.args[0])
    except ValueError as error:
        raise pytest.UsageError(f"{node.path.name}: pytest.mark.stage({marker.args[0]!r}). {error}") from None


def stages_checked(index):
    """The stages whose promises run against an app of this stage. An exercise's answer,
    among the reference folders, runs only its own: its whole check, with every promise
    of the stage it builds on, is run by test_self_check.py."""
    if is_exercise(index) and not os.environ.get("CHEEPER_APP"):
        return [index]
    return kept_stages(index)


def pytest_configure(config):
    """Make each exercise's answer from its patch, once, before the tests look for it.
    One that no longer applies fails test_every_answer_applies_and_keeps_its_promises.
    With pytest -n, only the main process makes them: workers making them at once would
    delete the files another is copying."""
    if not os.environ.get("CHEEPER_APP") and not hasattr(config, "workerinput"):
        for stage in range(len(STAGES), len(NAMES)):
            try:
                make_answer(stage)
            except DoesNotApply as error:
                print(error, file=sys.stderr)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Leave out the promises of stages that nothing under test keeps. With several
    workers (make test runs pytest -n), the tests that share a file's server stay
    together on one worker; every other test goes wherever a worker is free, the longest first."""
    kept = {kept for _, index in apps_under_test() for kept in stages_checked(index)}
    # A file with no stage (test_docs.py) checks the project itself: it always runs.
    later = [item for item in items if stage_of(item) is not None and stage_of(item) not in kept]
    if later:
        config.hook.pytest_deselected(items=later)
        items[:] = [item for item in items if item not in later]
    for item in items:
        if "server" in getattr(item, "fixturenames", ()):  # one server per file and app
            item.add_marker(pytest.mark.xdist_group(f"{item.path.stem}:{item.callspec.params['app_dir'].name}"))
    if hasattr(config, "workerinput"):  # with pytest -n, set by pytest-xdist in its workers
        hand_out_the_longest_first(items)


def hand_out_the_longest_first(items):
    """The files of long tests first (a long timeout says a test may take minutes), so that
    no worker is left at the end with one of them while the others have nothing to do."""
    longest = {}
    for item in items:
        longest[item.path] = max(longest.get(item.path, 0), timeout_of(item))
    # Tests that share a file's server keep their order; others go longest first too.
    items.sort(key=lambda item: (-longest[item.path], 0 if shares_a_server(item) else -timeout_of(item)))


def shares_a_server(item):
    return item.get_closest_marker("xdist_group") is not None


def timeout_of(item):
    marker = item.get_closest_marker("timeout")
    return marker.args[0] if marker else 0


def pytest_terminal_summary(terminalreporter):
    """Say once why tests were skipped, however many one reason skipped."""
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = Counter(report.longrepr[2].removeprefix("Skipped: ") for report in skipped)
    for reason, count in reasons.items():
        terminalreporter.write_line(f"{count} skipped: {reason}", yellow=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Add what the app's servers printed, and the errors its pages' JavaScript stopped
    with, to a failed test's report: a traceback there often names the mistake (and
    the self-check says it first). An error is worth telling when the test passed, too."""
    report = yield
    if report.when == "setup":  # the file's shared server has printed for earlier tests: skip that
        item.printed_before = {id(server): len(server.output()) for server in servers_of(item)}
    if report.when == "call":
        item.told = what_the_app_printed(item, report.failed)
    # The JUnit report the self-check reads takes what a test printed from its teardown.
    if report.when in ("call", "teardown"):
        report.sections += getattr(item, "told", [])
    return report


def servers_of(item):
    return list(filter(None, [item.funcargs.get("server"), *getattr(item, "started_servers", [])]))


def what_the_app_printed(item, failed):
    """[(section title, text)]: what the servers printed during the test, and the pages'
    errors, when the test failed or when they hold an error."""
    told = []
    for server in servers_of(item):
        printed = server.output()[getattr(item, "printed_before", {}).get(id(server), 0) :]
        if failed or "Traceback" in printed:
            told.append((f"Captured stderr from {server.url}", printed + "\n"))
    windows = item.funcargs.get("windows")
    if windows and windows.page_errors:
        told.append(("Captured stderr from the pages", "\n".join(windows.page_errors)))
    return told


def pytest_generate_tests(metafunc):
    if "app_dir" in metafunc.fixturenames:
        stage = stage_of(metafunc.definition)
        if stage is None:
            raise pytest.UsageError(
                f"{metafunc.definition.path.name} tests an app, but does not say which stage's promises it "
                'holds: add pytestmark = pytest.mark.stage("step1_server") (or another stage) at its top.'
            )
        folders = [folder for folder, index in apps_under_test() if stage in stages_checked(index)]
        metafunc.parametrize("app_dir", folders, ids=[folder.name for folder in folders], scope="module")


@pytest.fixture(scope="module")
def server(app_dir, tmp_path_factory, request):
    """The app's server, shared by the tests of one file: look for your own cheeps.
    A file may name settings for it in SERVER_SETTINGS."""
    settings = getattr(request.module, "SERVER_SETTINGS", None)
    server = ServerProcess(app_dir, tmp_path_factory.mktemp("db") / "cheeps.db", env=settings).start()
    yield server
    server.kill()


@pytest.fixture
def connect(server):
    """Open WebSocket clients on the shared server; they are closed after the test."""
    yield server.connect
    server.close_sockets()


@pytest.fixture
def start_server(app_dir, tmp_path, request):
    """Start servers of your own, for tests that stop or restart them."""
    servers = request.node.started_servers = []

    def start(port=None, database=None, wait=True, env=None, kind=ServerProcess, open_files=None):
        server = kind(app_dir, database or tmp_path / "cheeps.db", port, env, open_files)
        servers.append(server)
        return server.start(wait=wait)

    yield start
    for server in servers:
        server.kill()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.many_workers)])
def start_feed(request, start_server):
    """start_feed(n): a server of its own with n cheeps, "cheep 1" to "cheep n", kept in
    SQLite or in Redis (the test runs with each), and any other settings in `env`."""

    def start(count, env=None):
        storage = {"CHEEPER_DB": request.getfixturevalue("redis_server").url} if request.param == "redis" else {}
        server = start_server(env={**storage, **(env or {})})
        for number in range(1, count + 1):
            assert post_json(server, "Ada", f"cheep {number}").status_code == 201
        return server

    return start


@pytest.fixture
def server_on_a_taken_port(start_server):
    """The app, started on a port that another program listens on. It has exited."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = start_server(port=taken.getsockname()[1], wait=False)
        server.wait_for_exit()
    return server


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of the test's own; redis_server.stop() and .start() again."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def start_nginx(tmp_path):
    """Start nginx, configured as solution/nginx.conf says, in front of some servers."""
    started = []

    def start(backends):
        started.append(Nginx(tmp_path, backends).start())
        return started[-1]

    yield start
    for nginx in started:
        nginx.stop()


@pytest.fixture(scope="session")
def browser():
    """Chromium, headless unless HEADED=1 (to watch the windows talk)."""
    with sync_playwright() as playwright:
        headed = os.environ.get("HEADED") == "1"
        path = find_chromium(playwright, headless_shell=not headed)  # the shell shows no windows
        if path and not Path(path).is_file():
            pytest.fail(f"CHEEPER_CHROMIUM names {path}, and there is no such file.")
        if path is None:
            missing(HOW_TO_GET_ONE)
        browser = playwright.chromium.launch(
            executable_path=path, args=LAUNCH_ARGS, headless=not headed, slow_mo=300 if headed else 0
        )
        yield browser
        browser.close()


@pytest.fixture
def windows(browser):
    """Open browser windows on the app: windows.open(server)."""
    windows = Windows(browser)
    yield windows
    windows.close()


@pytest.fixture
def screenshot_folder(tmp_path):
    """Where screenshots go: CHEEPER_SCREENSHOTS (make screenshots) or a scratch folder."""
    folder = Path(os.environ.get("CHEEPER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
