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
    shown = [(page.name, line) for page in PAGES
             for line in re.findall(r"^  (?:ok  |FAIL|skip)  (.+)$", page.read_text(), flags=re.M)]
    assert [(page, line) for page, line in shown if line not in sentences] == [], (
        "Say these promises as the check says them now: copy them from a real check's output.")


@pytest.mark.parametrize("hint", HINTS, ids=[hint.key for hint in HINTS])
def test_every_hint_points_to_a_section_of_the_lesson(hint):
    assert hint.section in headings(ROOT / LESSONS[hint.lesson])


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
