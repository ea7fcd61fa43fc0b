"""Going further keeps every promise: each extension in tests/extensions/ (a new field in
every cheep, a new type of message) is made in a copy of its stage, and the copy still
passes that stage's check. The promises say what the lesson promises, and no more."""
import os
import subprocess
import sys
import tomllib

import pytest

from workshop.stages import ROOT

EXTENSIONS = sorted((ROOT / "tests" / "extensions").glob("*.toml"))
# The solution's whole check takes many minutes: its copy keeps the promises that a new
# field or message type can touch, about cheeps on the socket, over HTTP and in storage.
SOLUTION_PROMISES = ["tests/test_step1_server.py", "tests/test_solution.py",
                     "tests/test_solution_exactly_once.py", "tests/test_solution_paging.py"]


def run(*command, env=None):
    """Run a command from the top of the repository, as an attendee does; its exit code and output."""
    finished = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, env=env,
        stdin=subprocess.DEVNULL,  # no terminal: nothing is asked
    )
    return finished.returncode, finished.stdout + finished.stderr


def extended_copy(extension, app):
    """Copy the extension's stage into `app` and make its changes there; the stage."""
    spec = tomllib.loads(extension.read_text())
    assert run("-m", "workshop", "workspace", "--from", spec["stage"], "--to", str(app))[0] == 0
    for change in spec["change"]:
        path = app / change["file"]
        code = path.read_text()
        assert change["old"] in code, f"{extension.name} no longer fits {spec['stage']}/{change['file']}"
        path.write_text(code.replace(change["old"], change["new"], 1))
    return spec["stage"]


@pytest.mark.parametrize("extension", EXTENSIONS, ids=[path.stem for path in EXTENSIONS])
@pytest.mark.timeout(600)  # a check starts many servers and a browser: minutes on a busy machine
def test_an_extension_keeps_every_promise_of_its_stage(extension, tmp_path):
    app = tmp_path / "workspace"
    stage = extended_copy(extension, app)
    if stage == "solution":
        code, output = run(
            "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "not soak and not many_workers", *SOLUTION_PROMISES,
            env={**os.environ, "CHEEPER_APP": str(app), "CHEEPER_STAGE": stage},
        )
        assert code == 0, output
    else:
        code, output = run("-m", "workshop", "check", stage, "--app", str(app))
        assert code == 0, output
        assert "FAIL" not in output
