"""What every stage's tests share: which app they run against, and its server.

Each test file holds the promises of one stage, and is named after it
(test_step1_server.py holds what step 1 teaches). A later stage keeps every
earlier promise, so each test runs against its own stage and every later one.

By default the tests check the reference folders. To check another folder,
name it and the stage it should have reached:

    CHEEPER_APP=workspace CHEEPER_STAGE=step1 pytest
"""
import os
from pathlib import Path

import pytest

from server_process import ROOT, ServerProcess

STAGES = ["step0_request_response", "step1_server", "step2_client", "solution"]


def stage_index(name):
    """The place in STAGES of a stage named by folder ('step1_server'), 'step1' or '1'."""
    for index, stage in enumerate(STAGES):
        if name in (stage, stage.split("_")[0], str(index)):
            return index
    raise pytest.UsageError(
        f"Which stage should {name!r} be checked as? Set CHEEPER_STAGE to one of: "
        + ", ".join(STAGES)
    )


def apps_under_test():
    """[(folder, stage)]: the reference stages, or the one folder in CHEEPER_APP."""
    app = os.environ.get("CHEEPER_APP")
    if not app:
        return [(ROOT / stage, index) for index, stage in enumerate(STAGES)]
    folder = Path(app).resolve()
    if not (folder / "server.py").is_file():
        raise pytest.UsageError(f"CHEEPER_APP={app}: there is no server.py in {folder}.")
    return [(folder, stage_index(os.environ.get("CHEEPER_STAGE") or folder.name))]


def module_stage(path):
    """The stage whose promises a test file holds, or None for other files."""
    name = Path(path).stem.removeprefix("test_")
    return STAGES.index(name) if name in STAGES else None


def pytest_ignore_collect(collection_path):
    stage = module_stage(collection_path)
    if stage is not None and stage > max(index for _, index in apps_under_test()):
        return True  # a later stage's promises: nothing under test has got there yet
    return None


def pytest_generate_tests(metafunc):
    if "app_dir" in metafunc.fixturenames:
        stage = module_stage(metafunc.module.__file__)
        folders = [folder for folder, index in apps_under_test() if index >= stage]
        metafunc.parametrize(
            "app_dir", folders, ids=[folder.name for folder in folders], scope="module"
        )


@pytest.fixture(scope="module")
def server(app_dir, tmp_path_factory):
    """The app's server, shared by the tests of one file: look for your own cheeps."""
    server = ServerProcess(app_dir, tmp_path_factory.mktemp("db") / "cheeps.db").start()
    yield server
    server.kill()


@pytest.fixture
def connect(server):
    """Open WebSocket clients on the shared server; they are closed after the test."""
    yield server.connect
    server.close_sockets()


@pytest.fixture
def start_server(app_dir, tmp_path):
    """Start servers of your own, for tests that stop or restart them."""
    servers = []

    def start(port=None, database=None, wait=True):
        server = ServerProcess(app_dir, database or tmp_path / "cheeps.db", port)
        servers.append(server)
        return server.start(wait=wait)

    yield start
    for server in servers:
        server.kill()
