"""make test runs pytest in several worker processes at once (pytest-xdist). What
they all read, the exercises' answers, only pytest's main process writes, before the
workers start: workers remaking them at once deleted files another was copying."""

import os
import shutil
import subprocess
import sys

from workshop.stages import ROOT

# Loaded by pytest with -p, in the main process and in each worker, before conftest.py
# imports make_answer: it writes down which process made an answer.
SPY = """
import os
import workshop.answers

make = workshop.answers.make_answer

def make_answer(stage, folder=None):
    with open(os.environ["MADE_BY"], "a") as made_by:
        made_by.write(f"{os.getpid()}\\n")
    return make(stage, folder)

workshop.answers.make_answer = make_answer
"""


def test_only_pytests_main_process_makes_the_answers_its_workers_test(tmp_path):
    """With pytest -n, the exercises' answers are made once, by the main process alone."""
    project = tmp_path / "project"  # a copy: this run must not remake answers/ under the tests beside it
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    (tmp_path / "answers_spy.py").write_text(SPY)
    made_by = tmp_path / "made_by"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "answers_spy", "-p", "no:cacheprovider"]
        + ["tests/test_style.py", "-k", "no_test_has_this_name"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(tmp_path), "MADE_BY": str(made_by)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "2 workers" in run.stdout, run.stdout + run.stderr
    processes = set(made_by.read_text().split())
    assert len(processes) == 1, f"{len(processes)} processes made the answers:\n{run.stdout}{run.stderr}"
