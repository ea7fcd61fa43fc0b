"""The lesson text: its listings are the code, its links resolve, its files exist."""

import re
import subprocess
import sys

import pytest

from workshop.check import promise_files, promise_sentences
from workshop.hints import HINTS
from workshop.stages import EXERCISES, LESSONS, NAMES, ROOT, STAGES, stage_index

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
COG = ["-m", "cogapp", "-I", "docs", "-p", "from listings import *"]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\s]+)`")
FILE_NAME = re.compile(r"^[\w./-]+(\.(py|md|html|js|css|json|toml|txt|png|ini)|/)$")
MADE_LATER = ("workspace", ".venv", "wheelhouse", "cheeps.db", "tests/mistakes/")


def prose(page):
    """A page without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)


def slug(heading):
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(page):
    return [line.lstrip("#").strip() for line in prose(page).splitlines() if line.startswith("#")]


def test_every_code_listing_equals_the_code():
    finished = subprocess.run(
        [sys.executable, *COG, "--check", *map(str, PAGES)], cwd=ROOT, capture_output=True, text=True
    )
    assert finished.returncode == 0, f"Run 'make docs' to refresh the listings.\n{finished.stdout}{finished.stderr}"


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda page: page.name)
def test_every_link_and_anchor_resolves(page):
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links to {target}, which does not exist."
        if anchor and linked.suffix == ".md":
            anchors = [slug(heading) for heading in headings(linked)]
            assert anchor in anchors, f"{page.name} links to {target}: no such section."


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda page: page.name)
def test_every_file_the_text_names_exists(page):
    places = [ROOT, *(ROOT / stage for stage in STAGES)]
    for name in CODE_SPAN.findall(prose(page)):
        if FILE_NAME.match(name) and not name.startswith(MADE_LATER):
            assert any((place / name).exists() for place in places), f"{page.name} names {name}."


def test_every_promise_in_a_check_output_is_said_as_the_check_says_it():
    """Every promise in a check's output that a page shows is said as the report says it
    today: the first sentence of its test's docstring."""
    files = {file for stage in range(len(NAMES)) for file in promise_files(stage)}
    sentences = {sentence for file in files for sentence in promise_sentences(file).values()}
    shown = [
        (page.name, line)
        for page in PAGES
        for line in re.findall(r"^  (?:ok  |FAIL|skip)  (.+)$", page.read_text(), flags=re.M)
    ]
    assert [(page, line) for page, line in shown if line not in sentences] == [], (
        "Say these promises as the check says them now: copy them from a real check's output."
    )


@pytest.mark.parametrize("hint", HINTS, ids=[hint.key for hint in HINTS])
def test_every_hint_points_to_a_section_of_the_lesson(hint):
    assert hint.section in headings(ROOT / hint.page)


@pytest.mark.parametrize("lesson", LESSONS[: len(STAGES)])
def test_every_step_ends_with_check_your_work(lesson):
    page = ROOT / lesson
    assert headings(page)[-1] == "Check your work"
    assert "make check STEP=" in page.read_text().split("Check your work")[-1]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_exercise_says_how_to_check_it_and_where_its_answer_is(exercise):
    page = ROOT / LESSONS[stage_index(exercise)]
    assert {"Check it", "The answer"} <= set(headings(page)), f"{page.name} needs both sections."
    check, _, answer = page.read_text().partition("\n## Check it")[2].partition("\n## The answer")
    assert f"make check STEP={exercise}" in check and f"python -m workshop check {exercise}" in check
    assert f"make {exercise}" in answer and f"](../answers/{exercise}.patch)" in answer
    assert exercise in (DOCS / "going-further.md").read_text(), "going-further.md links every exercise."


def test_the_readme_leads_into_the_lesson():
    assert "](docs/README.md)" in (ROOT / "README.md").read_text()


LISTING = re.compile(r"<!-- \[\[\[cog (.*?) \]\]\] -->\n(.*?)<!-- \[\[\[end\]\]\] -->", re.S)
OPENING_FENCE = re.compile(r"^```\w+$")
STEP_PAGES = sorted(DOCS.glob("step*.md"))


def listings(page):
    """Each code block that cog wrote on a page: (its directive, the line above it, its code lines)."""
    for directive, output in LISTING.findall(page.read_text()):
        lines = output.splitlines()
        for number, line in enumerate(lines):
            if OPENING_FENCE.match(line):
                end = lines.index("```", number + 1)
                yield directive, lines[number - 1] if number else "", lines[number + 1 : end]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_listing_names_the_file_it_comes_from(page):
    for _, caption, code in listings(page):
        files = CODE_SPAN.findall(caption)
        assert files, f"{page.name}: a listing starting {code[:1]} has no caption naming its file above it."
        for name in files:
            assert (ROOT / name).is_file(), f"{page.name}: the caption {caption!r} names {name}, which does not exist."


@pytest.mark.parametrize("page", STEP_PAGES, ids=lambda page: page.name)
def test_every_step_page_ends_with_its_whole_change_folded(page):
    stage = page.stem.replace("-", "_")  # step1-server.md is the lesson of step1_server/
    place = STEP_PAGES.index(page)
    previous = f', "{STEP_PAGES[place - 1].stem.replace("-", "_")}"' if place else ""
    before, _, check_your_work = page.read_text().partition("\n## Check your work")
    answer = check_your_work.partition(f'<!-- [[[cog whole_step("{stage}"{previous}) ]]] -->\n')[2]
    assert answer.startswith("<details>\n"), f"{page.name}: Check your work ends with the step's whole change, folded."
    assert "whole_step(" not in before and "<details>" not in before, f"{page.name}: the whole change comes at the end."


def definitions(code):
    """The lines of a listing that define something: a function, a method, a constant.
    (A class's first line is left out: a listing of some of its methods repeats it.)"""
    if code and code[0].startswith("--- "):  # a diff: what the new file holds
        code = [line[1:] for line in code if line.startswith(("+", " "))]
    defining = re.compile(r"\s*(async def|def|function) \w+\(|[A-Z][A-Z0-9_]* = ")
    return [line.strip() for line in code if defining.match(line)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_page_shows_the_same_code_twice(page):
    seen = {}
    for directive, _, code in listings(page):
        if directive.startswith(("whole_step(", "answer(")):
            continue  # an answer, folded: it repeats what the page showed, on purpose
        for definition in definitions(code):
            assert definition not in seen, (
                f"{page.name} shows {definition!r} twice: {seen[definition]}, and {directive}"
            )
            seen[definition] = directive
