"""Check an app folder against a stage's promises, and say in plain words what to fix.

The stage's own test suite does the checking (pytest, run against the folder);
this turns its results into a short report: each promise kept or not, and for
each one not kept, the likely cause and where the lesson covers it.
"""

import ast
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from workshop.crashes import crashes_in, where_the_lesson_writes
from workshop.hints import HINTS, UNKNOWN, hint_for, lesson_order, lesson_sections
from workshop.stages import LESSONS, NAMES, ROOT, STAGES, TITLES, base_of, kept_stages, marked_stage
from workshop.starting import why_it_does_not_start


@dataclass
class Promise:
    test: str  # the test function's name
    outcome: str = "passed"  # passed, failed or skipped
    printed: str = ""  # what its failures printed, for the hints
    output: str = ""  # what the app's servers and pages printed, for the crashes
    failed_cases: list = field(default_factory=list)
    skip_reason: str = ""
    sentence: str = ""  # the promise in words: the first sentence of the test's docstring

    def __post_init__(self):
        if not self.sentence:  # a test without a docstring: its name, in words
            words = self.test.removeprefix("test_").replace("_", " ")
            self.sentence = words[0].upper() + words[1:]


def promise_sentences(test_file):
    """{test function's name: the promise it checks, in words} for the tests of a file
    that have a docstring. The promise is the docstring's first sentence, without its
    full stop, as the report lists it."""
    code = ast.parse(Path(test_file).read_text(encoding="utf-8"))
    tests = [node for node in code.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    return {
        test.name: first_sentence(ast.get_docstring(test)).removesuffix(".")
        for test in tests
        if ast.get_docstring(test)
    }


def first_sentence(docstring):
    """The docstring's first sentence on one line: up to the first full stop that ends a
    word ("cheeps.db" does not end one), or its whole first paragraph if none does."""
    paragraph = " ".join(docstring.split("\n\n")[0].split())
    return re.match(r"(.+?\.)(?=\s|$)|.*", paragraph).group()


def promise_files(stage):
    """The test files that hold the promises of this stage and the ones it builds on,
    earliest stage first: each file says its stage (workshop.stages.marked_stage)."""
    kept = kept_stages(stage)
    # A stage's HTTP and WebSocket promises before its browser's.
    files = [
        (kept.index(marked), "test_browser_" in file.name, str(file))
        for file in sorted(ROOT.glob("tests/test_*.py"))
        if (marked := marked_stage(file)) in kept
    ]
    return [file for *_, file in sorted(files)]


def section_tests(stage, section):
    """The tests (pytest node ids) of the promises a section of the stage's lesson makes.
    Raises ValueError, naming the sections, for a section that makes none."""
    hints = [hint for hint in HINTS if hint.stage_number == stage and hint.section.lower() == section.strip().lower()]
    names = [test for hint in hints for test in hint.tests]
    files = {file: Path(file).read_text(encoding="utf-8") for file in promise_files(stage)}
    tests = [f"{file}::{name}" for name in names for file, code in files.items() if f"def {name}(" in code]
    if not tests:
        known = sorted(
            {hint.section for hint in HINTS if hint.stage_number == stage and hint.tests},
            key=lesson_sections(stage).index,
        )
        raise ValueError(
            f'No promise belongs to a section "{section}" of {LESSONS[stage]}. Its sections with '
            f"promises: {'; '.join(map(repr, known))}."
        )
    return tests


# A check of more files than this runs two files at a time, each in its own pytest-xdist worker.
BIG_CHECK = 8
FILES_AT_ONCE = 2


def run_suite(app, stage, verbose=False, only=None):
    """Run the stage's tests against the app folder (or only the tests named); return
    its promises in order."""
    tests = only or promise_files(stage)
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "results.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            *tests,
            "-m",
            "not soak and not many_workers",
            f"--junitxml={results}",
            "-p",
            "no:cacheprovider",
            # Keep what a failed test printed, the servers' output included.
            "-o",
            "junit_logging=all",
            "-o",
            "junit_log_passing_tests=true",
        ]
        if len(tests) > BIG_CHECK:  # the solution's: its tests mostly wait on servers and browsers
            command += ["-n", str(FILES_AT_ONCE), "--dist", "loadfile"]
        if not verbose:
            command += ["-q", "--tb=no", "--no-header", "-p", "no:warnings"]
        env = {**os.environ, "CHEEPER_APP": str(app), "CHEEPER_STAGE": NAMES[stage]}
        quiet = {} if verbose else {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
        finished = subprocess.run(command, cwd=ROOT, env=env, text=True, **quiet)
        if not results.exists():
            sys.exit(f"The tests could not run:\n{finished.stderr or ''}")
        # Each promise in words, from its test's docstring, in the files that ran.
        files = dict.fromkeys(test.split("::")[0] for test in tests)
        sentences = {name: sentence for file in files for name, sentence in promise_sentences(ROOT / file).items()}
        promises = read_results(results, Path(app).name, sentences)
    # Sorted into the files' order: with two workers, results come as the files finish.
    order = list(sentences)
    return sorted(promises, key=lambda promise: order.index(promise.test) if promise.test in order else len(order))


def read_results(path, app_name, sentences):
    """The promises in the JUnit XML results, each with its sentence ({test's name: sentence})."""
    promises = {}
    for case in ElementTree.parse(path).iter("testcase"):
        test, _, case_id = case.get("name").partition("[")
        promise = promises.setdefault(test, Promise(test, sentence=sentences.get(test, "")))
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            promise.outcome = "failed"
            if parameters := parameters_of(case_id.removesuffix("]"), app_name):
                promise.failed_cases.append(repr(parameters))
            promise.printed += "\n".join([problem.get("message", ""), problem.text or ""])
        elif case.find("skipped") is not None and promise.outcome == "passed":
            promise.outcome = "skipped"
            promise.skip_reason = case.find("skipped").get("message", "")
        # The servers' output and the pages' errors (tests/conftest.py), kept or not.
        output = "\n".join(part.text or "" for part in case.iter("system-err"))
        promise.output += output
        if problem is not None:
            promise.printed += "\n" + output
    return list(promises.values())


def parameters_of(case_id, app_name):
    """A test case's own parameters, without the app's folder name, which pytest puts
    before them ("workspace-/ws") or after them ("sqlite-workspace"); "" for none."""
    if case_id == app_name:
        return ""
    if case_id.startswith(f"{app_name}-"):
        return case_id.removeprefix(f"{app_name}-")
    if case_id.endswith(f"-{app_name}"):
        return case_id.removesuffix(f"-{app_name}")
    return case_id.replace(f"-{app_name}-", "-")  # between two parameters


def report(app, stage, promises):
    """Print the report; return whether every promise was kept (a skip counts as kept),
    with no crash on the way.

    One cause gets one Read: line. A crash in your own code is said first; then
    the likeliest cause among the failed promises: the hint with evidence (what
    the failure printed) before a hint that only knows which promise failed, and
    the earlier one in the lesson before a later one. Every other failed promise
    points to it: fix it, and most of them will likely pass."""
    failed = [promise for promise in promises if promise.outcome == "failed"]
    crashes = crashes_in(app, "\n".join(promise.output for promise in promises))
    # A crash a hint's evidence explains (a JSONDecodeError: the invalid-json hint) is said,
    # and that hint is the cause. So is one with no line of yours (gevent's own, as Ctrl+C
    # stops a server without its handler): the promises tell more. Any other is the cause.
    unexplained = [crash for crash in crashes if crash.place and hint_for("", crash.text) is UNKNOWN]
    say_crashes(crashes, unexplained, bool(failed), stage)
    kept = len(promises) - len(failed)
    print(f"\n{app} against {TITLES[stage]}: {kept} of {len(promises)} promises kept.\n")
    hints = {promise.test: hint_for(promise.test, promise.printed, promise.output) for promise in failed}
    # The hints that explain a crash in your own code, said above: whichever test it happened in.
    explaining = {hint_for("", crash.text) for crash in crashes if crash.place} - {UNKNOWN}
    root = (
        None
        if unexplained
        else min(failed, key=lambda promise: likeliest(hints[promise.test], promise, explaining), default=None)
    )
    for heading, group in sections(stage, promises):
        if heading:
            done = sum(promise.outcome != "failed" for promise in group)
            print(f"{heading}: {done} of {len(group)} kept{', done' if done == len(group) else ''}.")
            if done == len(group):
                continue
        for promise in group:
            mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[promise.outcome]
            print(f"  {mark}  {promise.sentence}")
            if promise.outcome != "failed":
                continue
            if promise.failed_cases:
                say(f"Failed for: {', '.join(promise.failed_cases)}.")
            hint = hints[promise.test]
            if unexplained:
                say(f"Probably a result of the crash above ({unexplained[0].error.split(':')[0]}).")
            elif promise is not root and hint.key == hints[root.test].key:
                say(f'The same cause as "{root.sentence}".')
            elif promise is not root:
                say(f'Probably a result of the failure of "{root.sentence}".')
            else:
                say(f"The test saw: {observed(promise)}")
                if hint.evidence and not hint.seen_in(promise.printed):
                    # A hint that names a cause needs its evidence: without it, only what was seen.
                    say(f'Read: {hint.page}, section "{hint.section}", which explains this promise.')
                elif hint is UNKNOWN:
                    say(hint.says)
                else:
                    say(hint.says)
                    say(f'Read: {hint.page}, section "{hint.section}".')
    if crashes and not failed:
        print(
            "\nEvery promise was kept, but the error above happened while they were checked: fix it too, "
            "then check again."
        )
    skipped = {promise.skip_reason for promise in promises if promise.outcome == "skipped"}
    for reason in skipped:
        print(f"\nSkipped: {reason.removeprefix('Skipped: ')}")
    return not failed and not crashes


def observed(promise):
    """The first line of what the failed test said, as it said it."""
    line = next((line.strip() for line in promise.printed.splitlines() if line.strip()), "nothing")
    line = re.sub(r"^(AssertionError|Failed): ", "", line)
    return line if len(line) <= 300 else line[:297] + "..."


def say_crashes(crashes, unexplained, failed, stage):
    """Each error once, with up to three places it happened. The first crash no hint
    explains is the cause: say where the lesson writes the name it missed. When no
    promise failed, nothing else will say the hint that explains a crash: say it here."""
    if crashes:
        print()
    for error, places in group_by_error(crashes):
        file = places[0].place.split(",")[0] + ", "
        others = dict.fromkeys(place.place for place in places[1:] if place.place not in ("", places[0].place))
        also = "".join(f"; and {place.removeprefix(file)}" for place in list(others)[:2])
        say(places[0].sentence.removesuffix(".") + also + ".", indent="")
        if unexplained and error == unexplained[0].error:
            say_where_it_is_written(places[0], stage)
        elif not failed and not unexplained and error == crashes[0].error:
            if (hint := hint_for("", places[0].text)) is not UNKNOWN:
                say(hint.says)
                say(f'Read: {hint.page}, section "{hint.section}".')


def group_by_error(crashes):
    """[(error, [crashes])]: one error met in several places is said once."""
    groups = {}
    for crash in crashes:
        groups.setdefault(crash.error, []).append(crash)
    return list(groups.items())


def say_where_it_is_written(crash, stage):
    """For a name Python or JavaScript did not know, the lesson's section that writes it."""
    if not crash.missing_name:
        return
    found = where_the_lesson_writes(crash.missing_name, stage)
    if found:
        lesson, section, verb = found
        say(f'Read: {LESSONS[lesson]}, section "{section}", which {verb} {crash.missing_name}.')
    else:
        language = "JavaScript" if crash.in_page else "Python"
        say(
            f"{language} does not know the name {crash.missing_name} where your code uses it: compare its "
            "spelling with the name you meant, and check that it is defined before that line runs."
        )


def likeliest(hint, promise, explaining=()):
    """Sort key: the likeliest cause first. A cause that breaks most promises, seen;
    then a cause seen in what the app printed (in this test, or a crash said above),
    then one the test saw; then promises without evidence; each in the lesson's order."""
    seen = hint.seen_in(promise.printed)
    if seen and hint.first:  # these come in HINTS in the order they hide each other
        return (0, HINTS.index(hint), 0)
    if hint.seen_in(promise.output) or hint in explaining:  # in what the app itself printed: a traceback, say
        return (1, *lesson_order(hint))
    return (2 if seen else 3, *lesson_order(hint))


def sections(stage, promises):
    """[(heading, promises)]: one group, without a heading, for a step; for the solution
    or an exercise, the promises of the stages it builds on, then one group per section
    of its own page, in its order."""
    if stage < len(STAGES) - 1:
        return [(None, promises)]
    earlier = "Steps 0 to 2" if base_of(stage) < len(STAGES) - 1 else "Steps 0 to 2, and the solution"
    groups = {}
    for promise in promises:
        hint = hint_for(promise.test, "")
        if hint.stage_number != stage and hint is not UNKNOWN:
            heading = earlier
        elif hint is UNKNOWN:
            heading = "Other promises"
        else:
            heading = f'Section "{hint.section}"'
        groups.setdefault(heading, []).append(promise)
    order = [earlier, *(f'Section "{section}"' for section in lesson_sections(stage)), "Other promises"]
    return sorted(groups.items(), key=lambda group: order.index(group[0]))


def say(text, indent="        "):
    print(textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False))


def not_starting(app):
    """When the app's server does not start, say why, and return the one promise it
    breaks first (for the instructor's board); None when it starts."""
    problem = why_it_does_not_start(app)
    if problem is None:
        return None
    say(problem, indent="")
    print("Nothing else was checked: every promise needs the server running. Fix this, then check again.")
    return [Promise("test_the_server_starts", outcome="failed")]


def check(app, stage, verbose=False, only=None):
    """Check one stage (or only the tests named); print the report; return whether it
    passed, and its promises."""
    if (broken := not_starting(app)) is not None:
        return False, broken
    print(f"Checking {app} against {TITLES[stage]}{' (one section)' if only else ''}. This takes a little while...")
    promises = run_suite(app, stage, verbose, only)
    passed = report(app, stage, promises)
    if passed:
        print(f"\nWell done: {app} keeps every promise of {'this section of ' if only else ''}{TITLES[stage]}.")
    else:
        print(
            "\nFix the first cause above (the one with a Read: line, or the crash), then check again. "
            "VERBOSE=1 shows everything the tests saw."
        )
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
