"""make check: each classic mistake gets its hint, and every reference stage passes."""
import subprocess
import sys
import tomllib

import pytest

from workshop.hints import HINTS
from workshop.stages import ROOT, STAGES

MISTAKES = sorted((ROOT / "tests" / "mistakes").glob("*.toml"))


def workshop(*arguments):
    """Run `python -m workshop ...` as an attendee does; return its exit code and output."""
    finished = subprocess.run(
        [sys.executable, "-m", "workshop", *arguments], cwd=ROOT, capture_output=True, text=True
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


@pytest.mark.parametrize("mistake", MISTAKES, ids=[path.stem for path in MISTAKES])
def test_a_classic_mistake_fails_the_check_with_its_hint(mistake, tmp_path):
    spec = tomllib.loads(mistake.read_text())
    app = tmp_path / "workspace"
    workshop("workspace", "--from", spec["stage"], "--to", str(app))
    for change in spec["change"]:
        path = app / change["file"]
        code = path.read_text()
        assert change["old"] in code, f"{mistake.name} no longer fits {spec['stage']}/{change['file']}"
        path.write_text(code.replace(change["old"], change["new"], 1))

    code, output = workshop("check", spec["stage"], "--app", str(app))
    assert code == 1, output
    hint = next(hint for hint in HINTS if hint.key == spec["hint"])
    assert " ".join(hint.says.split()) in " ".join(output.split()), output


def test_a_workspace_is_never_overwritten(tmp_path):
    app = tmp_path / "workspace"
    assert workshop("workspace", "--to", str(app))[0] == 0
    (app / "server.py").write_text("# my own work\n")
    code, output = workshop("workspace", "--to", str(app))
    assert code != 0 and "never overwritten" in output
    assert (app / "server.py").read_text() == "# my own work\n"
