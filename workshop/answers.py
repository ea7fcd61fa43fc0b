"""The reference answers of the going-further exercises.

Each answer is kept as a patch, answers/<exercise>.patch: the change from the stage it
builds on, and nothing else. Made into a folder, answers/<exercise>/, it runs like any
stage. A fix to the stage it builds on needs no fix here: the patch applies on top of it.
"""

import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from workshop.stages import BASES, NAMES, ROOT, folder_of, is_exercise

# Never part of an answer: what running it leaves behind.
LEFT_BEHIND = shutil.ignore_patterns("*.db", "*.db-*", "__pycache__", ".pytest_cache")


def patch_of(stage):
    return ROOT / "answers" / f"{NAMES[stage]}.patch"


class DoesNotApply(Exception):
    """The patch no longer fits the stage it builds on."""


def make_answer(stage, folder=None):
    """Make the answer's folder (answers/<exercise>/ unless told another): a copy of its
    base stage, patched. A cheeps.db already there is kept. Raises DoesNotApply."""
    folder = Path(folder or folder_of(stage))
    with tempfile.TemporaryDirectory() as scratch:
        made = Path(scratch) / NAMES[stage]
        shutil.copytree(ROOT / BASES[NAMES[stage]], made, ignore=LEFT_BEHIND)
        # git apply, run outside any repository, works like patch(1), on every system git runs on.
        applied = subprocess.run(
            ["git", "apply", "--whitespace=nowarn", str(patch_of(stage))],
            cwd=made,
            text=True,
            capture_output=True,
            env={**os.environ, "GIT_CEILING_DIRECTORIES": scratch},
        )
        if applied.returncode:
            raise DoesNotApply(
                f"{patch_of(stage).relative_to(ROOT)} no longer applies to "
                f"{BASES[NAMES[stage]]}/:\n{applied.stderr.strip()}"
            )
        for old in folder.glob("*") if folder.exists() else []:
            if not LEFT_BEHIND(str(folder), [old.name]):
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        shutil.copytree(made, folder, dirs_exist_ok=True)
    return folder


def diff(base, answer):
    """A unified diff from the base folder to the answer's, file by file, as git writes one."""

    def files(folder):
        return {
            path.relative_to(folder).as_posix(): path
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not any(LEFT_BEHIND("", [part]) for part in path.relative_to(folder).parts)
        }

    old, new = files(base), files(answer)
    lines = []
    for name in sorted(old.keys() | new.keys()):
        before = old[name].read_text(encoding="utf-8").splitlines(keepends=True) if name in old else []
        after = new[name].read_text(encoding="utf-8").splitlines(keepends=True) if name in new else []
        if before != after:
            lines += difflib.unified_diff(
                before, after, f"a/{name}" if name in old else "/dev/null", f"b/{name}" if name in new else "/dev/null"
            )
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n\\ No newline at end of file\n"
    return "".join(lines)


def save_answer(stage):
    """Write the patch from the answer's folder, after changing the answer there."""
    patch = diff(ROOT / BASES[NAMES[stage]], folder_of(stage))
    patch_of(stage).write_text(patch, encoding="utf-8")
    return patch_of(stage)


def answer_command(stage, save=False):
    if not is_exercise(stage):
        sys.exit(f"{NAMES[stage]} is a step of the lesson, not an exercise: its folder is {NAMES[stage]}/.")
    if save:
        print(
            f"{save_answer(stage).relative_to(ROOT)} now holds the change from "
            f"{BASES[NAMES[stage]]}/ to {folder_of(stage).relative_to(ROOT)}/."
        )
        return
    try:
        folder = make_answer(stage)
    except DoesNotApply as error:
        sys.exit(str(error))
    print(
        f"{folder.relative_to(ROOT)}/ holds the answer to the exercise: {BASES[NAMES[stage]]}/, "
        f"changed by {patch_of(stage).relative_to(ROOT)}."
    )
