"""make check: a crash or a server that does not start is said first; each mistake gets the
right first hint, with the report's only Read: line; every promise has a hint and every
hint a mistake; going further keeps every promise; every reference stage passes; and
SHARE= puts a learner's result on the instructor's board."""

import ast
import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser import ARRIVES, LIVE, open_as_instructor
from server_process import ServerProcess
from waits import WAIT
from workshop.check import Promise, first_sentence, promise_files, read_results, report
from workshop.crashes import AFTER_A_POST, PAGE_ERROR
from workshop.hints import HINTS
from workshop.stages import EXERCISES, NAMES, ROOT, STAGES, marked_stage

MISTAKES = sorted((ROOT / "tests" / "mistakes").glob("*.toml"))
EXTENSIONS = sorted((ROOT / "tests" / "extensions").glob("*.toml"))


def workshop(*arguments, timeout=600):
    """Run `python -m workshop ...` as an attendee does; return its exit code and output."""
    finished = subprocess.run(
        [sys.executable, "-m", "workshop", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,  # no terminal: nothing is asked
    )
    return finished.returncode, finished.stdout + finished.stderr


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.timeout(600)  # the solution's check runs every earlier stage's tests too: minutes on a busy machine
def test_every_reference_stage_copied_into_a_fresh_workspace_passes(stage, tmp_path):
    app = tmp_path / "workspace"
    assert workshop("workspace", "--from", stage, "--to", str(app))[0] == 0
    code, output = workshop("check", stage, "--app", str(app))
    assert code == 0, output
    assert "FAIL" not in output


def changed_copy(spec, app):
    """Copy the stage a mistake or an extension names into `app`, and make its changes there."""
    code, output = workshop("workspace", "--from", spec["stage"], "--to", str(app))
    assert code == 0, output
    for change in spec["change"]:
        path = app / change["file"]
        code = path.read_text()
        assert change["old"] in code, f"{spec['description']!r} no longer fits {spec['stage']}/{change['file']}"
        path.write_text(code.replace(change["old"], change["new"], 1))


def check(chosen, tmp_path):
    """The check's exit code and output for a mistake (its file) or an exercise's answer
    (its name). make test runs them side by side, on pytest-xdist's workers."""
    spec = tomllib.loads(chosen.read_text()) if isinstance(chosen, Path) else {"stage": chosen, "change": []}
    app = tmp_path / "workspace"
    changed_copy(spec, app)
    section = ["--section", spec["section"]] if "section" in spec else []
    return workshop("check", spec["stage"], "--app", str(app), *section, timeout=840)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[path.stem for path in MISTAKES])
@pytest.mark.timeout(600)  # a check starts many servers and a browser: minutes on a busy machine
def test_a_mistake_fails_the_check_with_the_right_first_hint(mistake, tmp_path):
    spec = tomllib.loads(mistake.read_text())
    code, output = check(mistake, tmp_path)
    assert code == 1, output
    words = " ".join(output.split())
    first_cause = words[: words.find("Read: docs/")]  # all that comes before the first Read: line
    if "says_first" in spec:  # a crash, said before any promise
        assert words.split("This takes a little while...")[-1].strip().startswith(spec["says_first"]), output
    else:
        hint = next(hint for hint in HINTS if hint.key == spec["hint"])
        assert "Read: docs/" in words and first_cause.endswith(" ".join(hint.says.split()) + " "), output
    assert words.count("Read: docs/") <= 1, "One cause, one Read: line."


@pytest.mark.parametrize("exercise", EXERCISES)
@pytest.mark.timeout(900)  # the answers that build on the solution run its whole check
def test_every_answer_applies_and_keeps_its_promises(exercise, tmp_path):
    """answers/<exercise>.patch still applies to the stage it builds on, and the answer
    passes `make check STEP=<exercise>`: the exercise's promises and every one before."""
    code, output = check(exercise, tmp_path)
    assert code == 0 and "FAIL" not in output, output


def test_every_promise_has_a_hint_and_every_hint_names_promises_that_exist():
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not soak and not many_workers",
            *{file: None for stage in range(len(NAMES)) for file in promise_files(stage)},
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    promises = {line.split("::")[1].partition("[")[0] for line in listed.splitlines() if "::" in line}
    named = {test for hint in HINTS for test in hint.tests}
    assert promises - named == set(), "Promises that no hint names: give each one a hint."
    every_test = " ".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    assert {name for name in named if f"def {name}(" not in every_test} == set(), "Hints name tests that do not exist."


def test_every_promise_says_itself_in_the_first_sentence_of_its_docstring():
    """Every promise test has a docstring whose first sentence, ending with a full stop, is
    the promise: the check's report lists it (workshop/check.py), and the instructor's
    board shows the first one failing."""
    files = {file: None for stage in range(len(NAMES)) for file in promise_files(stage)}
    tests = [
        (Path(file).name, test)
        for file in files
        for test in ast.parse(Path(file).read_text()).body
        if isinstance(test, ast.FunctionDef) and test.name.startswith("test_")
    ]
    unsaid = [f"{file}::{test.name}" for file, test in tests if not ast.get_docstring(test)]
    assert unsaid == [], "Give each of these tests a docstring that says its promise in a sentence."
    sentences = {f"{file}::{test.name}": first_sentence(ast.get_docstring(test)) for file, test in tests}
    unfinished = {test: sentence for test, sentence in sentences.items() if not sentence.endswith(".")}
    assert unfinished == {}, "End the first sentence of each docstring with a full stop."
    too_long = {test: sentence for test, sentence in sentences.items() if len(sentence) > 200}
    assert too_long == {}, "The board takes a promise of at most 200 characters (FAILING_LIMIT): say it shorter."


def test_a_section_of_the_solution_is_checked_alone_and_a_wrong_one_is_named_with_the_right_ones(tmp_path):
    code, output = workshop("check", "3", "--app", "solution", "--section", "catching up")
    assert code == 0 and 'Section "Catching up": 4 of 4 kept, done.' in output, output
    assert "Steps 0 to 2" not in output, "It checked more than the section."
    code, output = workshop("check", "3", "--app", "solution", "--section", "Catching")
    assert code != 0 and 'No promise belongs to a section "Catching"' in output and "'Catching up'" in output


def test_a_test_file_says_its_stage_with_a_mark_whatever_its_name(tmp_path):
    """A new file named like a stage (tests/test_step1.py) holds no stage's promises until its mark says so."""
    (tmp_path / "test_step1.py").write_text("import pytest\n\ndef test_a_promise():\n    pass\n")
    assert marked_stage(tmp_path / "test_step1.py") is None
    (tmp_path / "test_rooms_more.py").write_text('import pytest\n\npytestmark = pytest.mark.stage("solution")\n')
    assert marked_stage(tmp_path / "test_rooms_more.py") == STAGES.index("solution")
    (tmp_path / "test_x.py").write_text(
        'import pytest\n\npytestmark = [pytest.mark.stage("step9"), pytest.mark.soak]\n'
    )
    with pytest.raises(ValueError, match="There is no stage 'step9'"):
        marked_stage(tmp_path / "test_x.py")


def test_every_hint_is_proven_by_a_mistake():
    proven = {tomllib.loads(mistake.read_text()).get("hint") for mistake in MISTAKES}
    assert {hint.key for hint in HINTS} - proven == set(), "Hints that no mistake in tests/mistakes/ proves."


# The solution's whole check takes many minutes: its copy keeps the promises that a new
# field or message type can touch, about cheeps on the socket, over HTTP and in storage.
SOLUTION_PROMISES = [
    "tests/test_step1_server.py",
    "tests/test_solution.py",
    "tests/test_solution_exactly_once.py",
    "tests/test_solution_paging.py",
]


@pytest.mark.parametrize("extension", EXTENSIONS, ids=[path.stem for path in EXTENSIONS])
@pytest.mark.timeout(600)  # a check starts many servers and a browser: minutes on a busy machine
def test_an_extension_keeps_every_promise_of_its_stage(extension, tmp_path):
    """Going further keeps every promise: a copy of a stage with a new field in every cheep,
    or a new type of message, still passes that stage's check."""
    spec = tomllib.loads(extension.read_text())
    app = tmp_path / "workspace"
    changed_copy(spec, app)
    if spec["stage"] == "solution":
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                "-m",
                "not soak and not many_workers",
                *SOLUTION_PROMISES,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "CHEEPER_APP": str(app), "CHEEPER_STAGE": "solution"},
        )
        assert finished.returncode == 0, finished.stdout + finished.stderr
    else:
        code, output = workshop("check", spec["stage"], "--app", str(app))
        assert code == 0 and "FAIL" not in output, output


def test_a_workspace_is_never_overwritten(tmp_path):
    app = tmp_path / "workspace"
    assert workshop("workspace", "--to", str(app))[0] == 0
    (app / "server.py").write_text("# my own work\n")
    code, output = workshop("workspace", "--to", str(app))
    assert code != 0 and "never overwritten" in output
    assert (app / "server.py").read_text() == "# my own work\n"


@pytest.fixture
def instructors_cheeper(tmp_path):
    """The reference solution, running as on the instructor's laptop."""
    server = ServerProcess(ROOT / "solution", tmp_path / "cheeps.db").start()
    yield server
    server.kill()


@pytest.mark.timeout(300)  # the learner's check runs step 0's tests
def test_a_learners_shared_check_appears_on_the_instructors_board_as_it_happens(instructors_cheeper, windows):
    board = open_as_instructor(windows, instructors_cheeper, "/instructor/board")
    expect(board.locator("#status")).to_have_text(LIVE)
    board.evaluate("window.stayed = true")
    code, output = workshop(
        "check", "0", "--app", "step0_request_response", "--share", instructors_cheeper.url, "--name", "Ada Lovelace"
    )
    assert code == 0 and "Shared with the instructor" in output, output
    assert "Nothing else left this laptop." in output
    row = board.locator("#board tbody tr").filter(has_text="Ada Lovelace")
    expect(row).to_contain_text("step 0", timeout=ARRIVES)
    expect(row).to_contain_text("Every one kept")
    assert board.evaluate("window.stayed") is True, "The board reloaded to show the report."


@pytest.mark.parametrize(
    "arguments, says",
    [
        (["--share", "192.168.1.20:5000", "--name", "Ada"], "is not an address to share with"),
        (["--share", "http://192.168.1.20:5000/board", "--name", "Ada"], "is not an address to share with"),
        (["--share", "http://192.168.1.20:5000"], "add NAME=Ada"),  # and no terminal to ask at
        (["--share", "http://192.168.1.20:5000", "--name", "Ada\tLovelace"], "control character"),
    ],
)
def test_sharing_with_a_wrong_address_or_without_a_name_stops_before_checking(arguments, says):
    code, output = workshop("check", "0", "--app", "step0_request_response", *arguments)
    assert code != 0 and says in output, output
    assert "Checking" not in output, "It ran the tests first."


def test_make_check_passes_a_section_on_shares_only_when_asked_and_takes_a_name_from_the_command_line_only():
    def command(*arguments, env=None):
        finished = subprocess.run(
            ["make", "-n", "check", "STEP=0", *arguments], cwd=ROOT, capture_output=True, text=True, env=env
        )
        lines = finished.stdout.replace("\\\n", " ").splitlines()  # the command goes on after a backslash
        return next(line for line in lines if "-m workshop check" in line)

    assert "--share" not in command()
    shared = command("SHARE=http://192.168.1.20:5000", "NAME=Ada")
    assert '--share "http://192.168.1.20:5000"' in shared and '--name "Ada"' in shared
    # WSL sets NAME to the computer's name: that one must not reach the board.
    assert "--name" not in command("SHARE=http://192.168.1.20:5000", env={**os.environ, "NAME": "LAPTOP-7"})
    assert '--section "Catching up"' in command("SECTION=Catching up") and "--section" not in command()


@pytest.mark.parametrize(
    "old, new, says",
    [
        (
            "import json\n",
            "import jsonn\n",
            "ModuleNotFoundError: No module named 'jsonn' — workspace/server.py, line ",
        ),
        ("def index():", "def index(:", "SyntaxError: invalid syntax — workspace/server.py, line "),
    ],
    ids=["a module that does not import", "a syntax error"],
)
def test_a_server_that_does_not_start_is_said_first_and_nothing_else_runs(old, new, says, tmp_path):
    app = tmp_path / "workspace"
    workshop("workspace", "--from", "step1_server", "--to", str(app))
    server = app / "server.py"
    server.write_text(server.read_text().replace(old, new, 1))
    code, output = workshop("check", "1", "--app", str(app))
    assert code == 1
    assert output.startswith("Your server does not start:"), output
    assert says in " ".join(output.split()), output
    assert "Checking" not in output and "FAIL" not in output, "It ran the promises too."


def test_a_server_on_a_port_that_is_taken_is_said_in_one_line(tmp_path):
    app = tmp_path / "workspace"
    workshop("workspace", "--from", "step1_server", "--to", str(app))
    with socket.socket() as taken:  # as when the learner's own server still runs in another terminal
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = app / "server.py"
        server.write_text(server.read_text().replace('int(os.environ.get("PORT", "5000"))', str(port), 1))
        code, output = workshop("check", "1", "--app", str(app))
    assert code == 1
    assert " ".join(output.split()).startswith(
        f"Your server does not start: it stopped (exit code 1), saying: Cannot listen on 127.0.0.1:{port}"
    ), output
    assert "Checking" not in output and "FAIL" not in output, "It ran the promises too."


def test_a_hint_that_names_a_cause_is_given_only_with_its_evidence(capsys):
    xss = "test_html_in_a_cheep_is_shown_as_text_and_never_runs"
    without = Promise(xss, "failed", printed="AssertionError: Locator expected to have count 1")
    report("workspace", 2, [without])
    said = " ".join(capsys.readouterr().out.split())
    hint = next(hint for hint in HINTS if hint.key == "text-not-html")
    assert "The test saw: Locator expected to have count 1" in said
    assert " ".join(hint.says.split()) not in said, "It blamed HTML with no script seen running."

    seen = Promise(xss, "failed", printed="AssertionError: A script in a cheep ran: it was drawn as HTML.")
    report("workspace", 2, [seen])
    assert " ".join(hint.says.split()) in " ".join(capsys.readouterr().out.split())


def test_an_error_on_the_page_the_forms_own_post_loaded_is_marked_as_such(windows, tmp_path):
    """Errors in a page are marked when they come from the page that the form's own post loaded."""
    server = ServerProcess(ROOT / "step0_request_response", tmp_path / "cheeps.db").start()
    throw_an_error = "setTimeout(() => { throw new Error('an error') })"
    try:
        page = windows.open(server)
        page.evaluate(throw_an_error)
        page.fill("#name", "Ada")
        page.fill("#cheep", "Posted by the form itself")
        page.click("#cheep-form button")  # step 0's page has no script: the form posts itself
        expect(page.get_by_text("Posted by the form itself")).to_be_visible()
        page.evaluate(throw_an_error)
        wait_for_errors(page, windows, 2)
        page.reload()  # as a test may: a page it asked for
        page.evaluate(throw_an_error)
        wait_for_errors(page, windows, 3)
    finally:
        server.kill()
    before, after, reloaded = windows.page_errors
    assert AFTER_A_POST not in before
    assert after.endswith(AFTER_A_POST)
    assert AFTER_A_POST not in reloaded


def wait_for_errors(page, windows, count):
    deadline = time.monotonic() + WAIT
    while len(windows.page_errors) < count:  # Playwright hands on the page's events as it waits
        assert time.monotonic() < deadline, windows.page_errors
        page.wait_for_timeout(50)


def test_a_crash_on_the_page_the_forms_own_post_loaded_is_put_down_to_the_post(capsys):
    """A send on a socket still opening, on the page the form's own post loaded, names the missing preventDefault()."""
    crash = (
        f"{PAGE_ERROR} InvalidStateError: Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.\n"
        "    at HTMLFormElement.<anonymous> (http://127.0.0.1:26000/static/cheeper.js:33:12)\n"
        "    at HTMLFormElement.dispatch (http://127.0.0.1:26000/static/jquery-3.7.1.min.js:2:40035)"
    )
    test = "test_a_cheep_sent_in_one_window_appears_in_both_without_a_reload"
    reloads = next(hint for hint in HINTS if hint.key == "reloads")

    def failed_with(output):  # as read_results() makes it from the JUnit report
        return Promise(test, "failed", printed=f"AssertionError: Locator expected\n{output}", output=output)

    report("workspace", 2, [failed_with(f"{crash}\n{AFTER_A_POST}")])
    said = " ".join(capsys.readouterr().out.split())
    assert said.startswith("Your page's JavaScript stopped after the form posted itself and the page reloaded:"), said
    assert " ".join(reloads.says.split()) + " Read: docs/" in said, said

    report("workspace", 2, [failed_with(crash)])  # on a page that a test opened
    said = " ".join(capsys.readouterr().out.split())
    assert "Probably a result of the crash above (InvalidStateError)" in said, said


def test_a_failed_case_is_named_by_its_own_parameters_wherever_pytest_puts_the_apps_name(tmp_path):
    """pytest names a case "workspace-/ws", or "sqlite-workspace" when the parameter comes
    from a fixture: the report names "/ws" and "sqlite", never a piece of the folder's name."""
    cases = ["workspace-/ws", "sqlite-workspace", "workspace"]
    results = tmp_path / "results.xml"
    results.write_text(
        "<testsuites><testsuite>"
        + "".join(f'<testcase name="test_a[{case}]"><failure message="no"/></testcase>' for case in cases)
        + "</testsuite></testsuites>"
    )
    [promise] = read_results(results, "workspace", {})
    assert promise.outcome == "failed" and promise.failed_cases == ["'/ws'", "'sqlite'"]
