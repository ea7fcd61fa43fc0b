"""One style for all of the project's Python, as ruff writes it: pyproject.toml says how,
and `make format` applies it."""

import subprocess
import sys

import pytest

from workshop.stages import EXERCISES, ROOT


def ruff(*arguments):
    """Run ruff in the project; return its exit code and what it said."""
    finished = subprocess.run([sys.executable, "-m", "ruff", *arguments], cwd=ROOT, capture_output=True, text=True)
    return finished.returncode, finished.stdout + finished.stderr


def test_the_python_is_formatted_as_ruff_formats_it():
    code, said = ruff("format", "--check", ".")
    assert code == 0, f"Run make format. These files are not formatted yet:\n{said}"


def test_ruff_finds_nothing_to_fix_in_the_python():
    code, said = ruff("check", ".")
    assert code == 0, f"Run make format, then fix by hand what ruff still finds:\n{said}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_each_answer_is_written_in_the_same_style(exercise):
    """An answer is made from its patch (tests/conftest.py): formatted, it stays a small patch."""
    folder = ROOT / "answers" / exercise
    files = sorted(str(path) for path in folder.rglob("*.py") if "__pycache__" not in path.parts)
    # Its own modules, for the order of imports; named one by one, since pyproject.toml leaves answers/ out.
    own = ["--config", f"src = ['{folder.relative_to(ROOT).as_posix()}']"]
    advice = (
        f"In answers/{exercise}/, run ruff format and ruff check --fix on these files, then "
        f"python -m workshop answer {exercise} --save:\n"
    )
    code, said = ruff("format", "--check", *files)
    assert code == 0, advice + said
    code, said = ruff("check", *own, *files)
    assert code == 0, advice + said
