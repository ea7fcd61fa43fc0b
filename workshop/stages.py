"""The lesson's stages, in order, the going-further exercises that build on them,
and the page of the lesson that teaches each."""
import ast
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

# Going further (docs/going-further.md): each exercise builds on one stage, keeps its
# promises, and has a reference answer in answers/, a patch to that stage.
BASES = {
    "typing": "step2_client",
    "likes": "step2_client",
    "rooms": "solution",
    "user-feed": "step2_client",
    "long-polling": "solution",
}
EXERCISES = list(BASES)
EXERCISE_TITLES = ["a typing indicator", "likes", "rooms", "a user's own feed", "long polling"]

# Every stage a check knows, numbered: the lesson's 0 to 3, then the exercises.
NAMES = STAGES + EXERCISES
TITLES += [f'the exercise "{title}"' for title in EXERCISE_TITLES]
LESSONS += [f"docs/going-further-{name}.md" for name in EXERCISES]


def stage_index(name):
    """The number of a stage named by folder ('step1_server'), 'step1' or '1', or of an
    exercise named as in EXERCISES ('rooms').

    Raises ValueError for any other name."""
    for index, stage in enumerate(NAMES):
        if str(name) in (stage, stage.split("_")[0], str(index)):
            return index
    raise ValueError(f"There is no stage {name!r}: name one of {', '.join(STAGES)} (or 0 to 3), "
                     f"or an exercise: {', '.join(EXERCISES)}.")


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
