"""The lesson's stages, in order, and the page of the lesson that teaches each."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STAGES = ["step0_request_response", "step1_server", "step2_client", "solution"]
TITLES = [
    "step 0, request/response",
    "step 1, the server",
    "step 2, the client",
    "the solution",
]
LESSONS = [
    "docs/step0-request-response.md",
    "docs/step1-server.md",
    "docs/step2-client.md",
    "docs/solution.md",
]


def stage_index(name):
    """The place in STAGES of a stage named by folder ('step1_server'), 'step1' or '1'.

    Raises ValueError for any other name."""
    for index, stage in enumerate(STAGES):
        if str(name) in (stage, stage.split("_")[0], str(index)):
            return index
    raise ValueError(f"There is no stage {name!r}: name one of {', '.join(STAGES)} (or 0 to 3).")
