"""Check an app folder against a stage's promises, and say in plain words what to fix.

The stage's own test suite does the checking (pytest, run against the folder);
this turns its results into a short report: each promise kept or not, and for
each one not kept, the likely cause and where the lesson covers it.
"""
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from workshop.hints import UNKNOWN, hint_for
from workshop.stages import LESSONS, ROOT, STAGES, TITLES
from workshop.starting import why_it_does_not_start


# Words a test's name cannot spell.
SPELLING = {"ctrl c": "Ctrl+C", "ws": "/ws", "json": "JSON", "html": "HTML", "http": "HTTP",
            "protocols": "protocol's", "apps": "app's", "pages": "page's", "echo": "/echo",
            "jquery": "jQuery", "javascript": "JavaScript", "cheeps db": "cheeps.db",
            "browsers": "browser's", "idempotency key": "Idempotency-Key", "kib": "KiB",
            "bystanders": "bystander's", "instructors": "instructor's", "learners": "learner's", "cheeper allowed hosts": "CHEEPER_ALLOWED_HOSTS", "ip": "IP"}


@dataclass
class Promise:
    test: str  # the test function's name
    outcome: str = "passed"  # passed, failed or skipped
    printed: str = ""  # what its failures printed, for the hints
    failed_cases: list = field(default_factory=list)
    skip_reason: str = ""

    @property
    def sentence(self):
        words = self.test.removeprefix("test_").replace("_", " ")
        for word, spelled in SPELLING.items():
            words = re.sub(rf"\b{word}\b", spelled, words)
        return words[0].upper() + words[1:]


def test_files(stage):
    """The test files that hold the promises of this stage and the ones before it."""
    files = []
    for kind in ("test_", "test_browser_"):
        for name in STAGES[: stage + 1]:
            # test_solution.py, then test_solution_<topic>.py
            files += sorted(ROOT.glob(f"tests/{kind}{name}.py")) + sorted(ROOT.glob(f"tests/{kind}{name}_*.py"))
    return [str(file) for file in files]


def run_suite(app, stage, verbose=False):
    """Run the stage's tests against the app folder; return its promises in order."""
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "results.xml"
        command = [
            sys.executable, "-m", "pytest", *test_files(stage), "-m", "not soak and not many_workers",
            f"--junitxml={results}", "-p", "no:cacheprovider",
            # Keep what a failed test printed, the servers' output included.
            "-o", "junit_logging=all", "-o", "junit_log_passing_tests=false",
        ]
        if not verbose:
            command += ["-q", "--tb=no", "--no-header", "-p", "no:warnings"]
        env = {**os.environ, "CHEEPER_APP": str(app), "CHEEPER_STAGE": STAGES[stage]}
        quiet = {} if verbose else {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
        finished = subprocess.run(command, cwd=ROOT, env=env, text=True, **quiet)
        if not results.exists():
            sys.exit(f"The tests could not run:\n{finished.stderr or ''}")
        return read_results(results, Path(app).name)


def read_results(path, app_name):
    promises = {}
    for case in ElementTree.parse(path).iter("testcase"):
        test, _, case_id = case.get("name").partition("[")
        promise = promises.setdefault(test, Promise(test))
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            promise.outcome = "failed"
            case_id = case_id.removesuffix("]")
            if case_id != app_name:  # "<app>-<parameters>": name the parameters
                promise.failed_cases.append(repr(case_id[len(app_name) + 1 :]))
            promise.printed += "\n".join(
                [problem.get("message", ""), problem.text or ""]
                + [part.text or "" for part in case.iter("system-err")]
            )
        elif case.find("skipped") is not None and promise.outcome == "passed":
            promise.outcome = "skipped"
            promise.skip_reason = case.find("skipped").get("message", "")
    return list(promises.values())


def report(app, stage, promises):
    """Print the report; return whether every promise was kept (a skip counts as kept)."""
    failed = [promise for promise in promises if promise.outcome == "failed"]
    kept = len(promises) - len(failed)
    print(f"\n{app} against {TITLES[stage]}: {kept} of {len(promises)} promises kept.\n")
    hints = {promise.test: hint_for(promise.test, promise.printed) for promise in failed}
    # A cause that breaks most other promises is told once; the rest point to it.
    root = next((promise for promise in failed if hints[promise.test].first), None)
    told = {}  # hint key -> the promise that told it
    for promise in promises:
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[promise.outcome]
        print(f"  {mark}  {promise.sentence}")
        if promise.outcome != "failed":
            continue
        if promise.failed_cases:
            say(f"Failed for: {', '.join(promise.failed_cases)}.")
        hint = hints[promise.test]
        if root and hint.key != hints[root.test].key:
            say(f'Probably a result of the failure of "{root.sentence}".')
        elif hint.key in told:
            say(f'The same cause as "{told[hint.key]}".')
        else:
            told[hint.key] = promise.sentence
            say(hint.says)
            if hint is not UNKNOWN:
                say(f'Read: {LESSONS[hint.lesson]}, section "{hint.section}".')
    skipped = {promise.skip_reason for promise in promises if promise.outcome == "skipped"}
    for reason in skipped:
        print(f"\nSkipped: {reason.removeprefix('Skipped: ')}")
    return not failed


def say(text, indent="        "):
    print(textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent))


def not_starting(app):
    """When the app's server does not start, say why, and return the one promise it
    breaks first (for the instructor's board); None when it starts."""
    problem = why_it_does_not_start(app)
    if problem is None:
        return None
    say(problem, indent="")
    print("Nothing else was checked: every promise needs the server running. Fix this, then check again.")
    return [Promise("test_the_server_starts", outcome="failed")]


def check(app, stage, verbose=False):
    """Check one stage; print the report; return whether it passed, and its promises."""
    if (broken := not_starting(app)) is not None:
        return False, broken
    print(f"Checking {app} against {TITLES[stage]}. This takes a little while...")
    promises = run_suite(app, stage, verbose)
    passed = report(app, stage, promises)
    if passed:
        print(f"\nWell done: {app} keeps every promise of {TITLES[stage]}.")
    else:
        print("\nFix the first FAIL that has a Read: line, then check again. "
              "VERBOSE=1 shows everything the tests saw.")
    return passed, promises


def check_progress(app, verbose=False):
    """Find the latest stage the app passes, and say which step comes next.

    Return whether it passes step 0 at least, the stage it stopped at (the first
    one failing, or the last), and that stage's promises."""
    if (broken := not_starting(app)) is not None:
        return False, 0, broken
    for stage in range(len(STAGES)):
        print(f"Checking {app} against {TITLES[stage]}...")
        promises = run_suite(app, stage, verbose)
        if any(promise.outcome == "failed" for promise in promises):
            break
    else:
        print(f"\n{app} keeps every promise, up to and including the solution. Well done!")
        return True, stage, promises
    if stage == 0:
        print(f"\n{app} does not pass step 0 yet: here is what is missing.")
    else:
        print(f"\n{app} passes {TITLES[stage - 1]}. Next: {TITLES[stage]}, in {LESSONS[stage]}.")
        print("Here is what it still needs:")
    report(app, stage, promises)
    return stage > 0, stage, promises
