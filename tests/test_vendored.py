"""Every copy of jQuery in the project is the recorded release, byte for byte; a learner's
own folders, made by `make workspace`, are theirs: git and this check leave them alone."""

import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import PurePosixPath

import pytest

from vendored import JQUERY, sha256
from workshop.stages import ROOT, STAGES

JQUERY_FILE = "jquery*.js"


def git(*arguments):
    return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True)


def jquery_copies():
    """The project's copies of jQuery: those in the stage folders, and any other that git
    tracks. Outside a git clone (a downloaded zip), the stage folders' only.

    A learner's folder is neither a stage nor tracked, whatever its name, so the copies
    in it are not the project's."""
    in_stages = {path.relative_to(ROOT).as_posix() for stage in STAGES for path in (ROOT / stage).rglob(JQUERY_FILE)}
    listed = git("ls-files", "-z")
    tracked = listed.stdout.split("\0") if listed.returncode == 0 else []
    return sorted(in_stages | {name for name in tracked if fnmatch(PurePosixPath(name).name, JQUERY_FILE)})


def test_every_jquery_in_the_project_is_a_recorded_copy():
    assert jquery_copies() == sorted(JQUERY["copies"])


def test_each_copy_matches_the_recorded_version_and_checksum():
    for copy in JQUERY["copies"]:
        content = (ROOT / copy).read_bytes()
        assert sha256(content) == JQUERY["sha256"], f"{copy} is not the recorded jQuery."
        assert content.startswith(f"/*! jQuery v{JQUERY['version']} ".encode()), f"{copy} lost its license banner."


@pytest.fixture
def learners_folder():
    """A folder of the learner's own in the project, made as docs/solution.md says:
    `python -m workshop workspace --from solution --to my-solution`, under a name of its own."""
    folder = ROOT / "my-solution-of-test-vendored"
    made = subprocess.run(
        [sys.executable, "-m", "workshop", "workspace", "--from", "solution", "--to", folder.name],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    try:
        assert made.returncode == 0, made.stdout + made.stderr
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_learners_own_folder_and_its_own_jquery_are_left_alone(learners_folder):
    """`make workspace APP=my-solution` makes a folder git ignores, whatever its name: its
    copies of jQuery, even one of another release, are not the project's."""
    (learners_folder / "static" / "jquery-3.7.1.min.js").write_text("/*! jQuery v3.7.1, the learner's own */\n")
    assert jquery_copies() == sorted(JQUERY["copies"])
    if git("rev-parse").returncode:
        pytest.skip("not a git clone: nothing for git to ignore")
    status = git("status", "--porcelain", "--untracked-files=all", "--", learners_folder.name).stdout
    assert status == "", f"git sees the learner's folder:\n{status}"
