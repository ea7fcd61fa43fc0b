"""The lesson's stages, in order, the going-further exercises that build on them,
and the page of the lesson that teaches each."""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stage:
    """A stage a check knows: a step of the lesson, or a going-further exercise."""

    name: str  # its folder (a step), or the exercise's name: make check STEP=<name>
    title: str  # how the check's report names it
    lesson: str  # the page of docs/ that teaches it
    builds_on: str = ""  # an exercise: the stage its answer is a patch to (answers/<name>.patch)


# In the lesson's order: a step keeps every promise of the steps before it.
STEPS = [
    Stage("step0_request_response", "step 0, request/response", "docs/step0-request-response.md"),
    Stage("step1_server", "step 1, the server", "docs/step1-server.md"),
    Stage("step2_client", "step 2, the client", "docs/step2-client.md"),
    Stage("solution", "the solution", "docs/solution.md"),
]
# Going further (docs/going-further.md): an exercise keeps every promise of the stage it
# builds on, and has a reference answer in answers/.
EXERCISE_STAGES = [
    Stage("typing", 'the exercise "a typing indicator"', "docs/going-further-typing.md", "step2_client"),
    Stage("likes", 'the exercise "likes"', "docs/going-further-likes.md", "step2_client"),
    Stage("rooms", 'the exercise "rooms"', "docs/going-further-rooms.md", "solution"),
    Stage("user-feed", 'the exercise "a user\'s own feed"', "docs/going-further-user-feed.md", "step2_client"),
    Stage("long-polling", 'the exercise "long polling"', "docs/going-further-long-polling.md", "solution"),
]

# Every stage a check knows, numbered: the lesson's 0 to 3, then the exercises. The lists
# below read one field of each, by that number.
EVERY_STAGE = STEPS + EXERCISE_STAGES
NAMES = [stage.name for stage in EVERY_STAGE]
TITLES = [stage.title for stage in EVERY_STAGE]
LESSONS = [stage.lesson for stage in EVERY_STAGE]
STAGES = [stage.name for stage in STEPS]
EXERCISES = [stage.name for stage in EXERCISE_STAGES]
BASES = {stage.name: stage.builds_on for stage in EXERCISE_STAGES}


def stage_index(name):
    """The number of a stage named by folder ('step1_server'), 'step1' or '1', or of an
    exercise named as in EXERCISES ('rooms').

    Raises ValueError for any other name."""
    for index, stage in enumerate(NAMES):
        if str(name) in (stage, stage.split("_")[0], str(index)):
            return index
    raise ValueError(
        f"There is no stage {name!r}: name one of {', '.join(STAGES)} (or 0 to 3), "
        f"or an exercise: {', '.join(EXERCISES)}."
    )


def is_exercise(stage):
    return stage >= len(STAGES)


def base_of(stage):
    """The stage an exercise builds on; for a step of the lesson, the step before it."""
    return NAMES.index(BASES[NAMES[stage]]) if is_exercise(stage) else stage - 1


def kept_stages(stage):
    """The stages whose promises a stage keeps, earliest first: itself and every one it builds on."""
    return [] if stage < 0 else kept_stages(base_of(stage)) + [stage]


def marked_stage(test_file):
    """The stage whose promises a test file holds, as its line
    `pytestmark = pytest.mark.stage("step1_server")` says; None for a file with no such
    line (tests/test_docs.py checks the lesson, not an app). Raises ValueError for a
    stage that does not exist."""
    for node in ast.parse(Path(test_file).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "pytestmark" for target in node.targets):
            for call in ast.walk(node.value):
                if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "stage":
                    return stage_index(call.args[0].value)
    return None


def folder_of(stage):
    """Where the reference app of a stage is: its folder, or for an exercise the folder its
    answer is made in (workshop/answers.py)."""
    return ROOT / NAMES[stage] if not is_exercise(stage) else ROOT / "answers" / NAMES[stage]
