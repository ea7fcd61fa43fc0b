"""The workshop's commands, for anyone without make (on Windows, say):

    python -m workshop workspace [--from STAGE] [--to FOLDER]   copy a stage into workspace/
    python -m workshop check [STEP] [--app FOLDER] [--verbose] [--section SECTION]
                             [--share ADDRESS [--name NAME]]
    python -m workshop answer EXERCISE [--save]   make answers/EXERCISE/ from its patch

`check 1` checks your app against step 1; `check` alone finds the latest step
your app passes and says what comes next. `check 3 --section "Catching up"`
checks only the promises of that section of the step's lesson. `check rooms`
checks your app against the exercise "Rooms" (docs/going-further.md) and every
promise of the stage it builds on.

`answer rooms` makes answers/rooms/, the exercise's reference answer, from its patch;
`answer rooms --save` writes the patch again after answers/rooms/ was changed.

`--share http://192.168.1.20:5000 --name Ada` also sends the instructor's Cheeper,
at that address, your name and how far your app got: the step, how many promises it
kept, and the first one it did not. Nothing is shared without --share.
"""

import argparse
import shutil
import sys
from pathlib import Path

from workshop.answers import DoesNotApply, answer_command, make_answer
from workshop.share import board_name, share, share_address
from workshop.stages import NAMES, STAGES, folder_of, is_exercise, stage_index

# Written into every workspace: git ignores the whole folder, whatever it is named, so
# the project's `git status` and its tests leave the learner's own work alone.
YOUR_OWN = """\
# Your own app, made by `make workspace`: git leaves this whole folder out of the
# project. To keep it in a git repository of your own, delete this file.
*
"""


def make_workspace(stage, folder):
    if folder.exists():
        sys.exit(
            f"{folder} already exists, and it holds your own work: it is never overwritten.\n"
            "To start again, rename or delete it first."
        )
    if is_exercise(stage):  # its reference answer, made from the patch
        try:
            make_answer(stage, folder)
        except DoesNotApply as error:
            sys.exit(str(error))
    else:
        shutil.copytree(folder_of(stage), folder, ignore=shutil.ignore_patterns("*.db*", "__pycache__"))
    (folder / ".gitignore").write_text(YOUR_OWN)
    print(f"{folder} is now a copy of {NAMES[stage]}: your own app, to change as the lesson says.")
    app = "" if folder.name == "workspace" else f" APP={folder.name}"
    print(f"Run it with 'make run{app}', and check it with 'make check STEP=<the step you are on>{app}'.")


def main():
    parser = argparse.ArgumentParser(prog="python -m workshop", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    workspace = commands.add_parser("workspace", help="copy a stage into workspace/")
    workspace.add_argument("--from", dest="stage", default=STAGES[0], help="the stage to start from")
    workspace.add_argument("--to", default="workspace", help="the folder to create")
    checking = commands.add_parser("check", help="check your app against a step")
    checking.add_argument("step", nargs="?", help="0 to 3, step1, a stage's folder name, or an exercise (rooms)")
    checking.add_argument("--app", default="workspace", help="the folder to check")
    checking.add_argument("--verbose", action="store_true", help="show everything the tests saw")
    checking.add_argument("--section", help='only the promises of one section of the step\'s lesson ("Catching up")')
    checking.add_argument("--share", metavar="ADDRESS", help="also send your progress to the instructor's Cheeper")
    checking.add_argument("--name", help="your name on the instructor's board (asked for if missing)")
    answer = commands.add_parser("answer", help="make an exercise's reference answer in answers/")
    answer.add_argument("exercise", help="typing, likes, rooms, user-feed or long-polling")
    answer.add_argument("--save", action="store_true", help="write its patch from answers/EXERCISE/")
    arguments = parser.parse_args()

    named = {"workspace": "stage", "check": "step", "answer": "exercise"}[arguments.command]
    try:
        stage = stage_index(getattr(arguments, named) or 0)
    except ValueError as error:
        sys.exit(str(error))
    if arguments.command == "workspace":
        return make_workspace(stage, Path(arguments.to))
    if arguments.command == "answer":
        return answer_command(stage, arguments.save)

    # Checking needs pytest, psutil and the rest of requirements-dev.txt; a workspace does not.
    from workshop.check import check, check_progress, section_tests

    app = Path(arguments.app)
    if not (app / "server.py").is_file():
        sys.exit(f"There is no {app / 'server.py'} to check. Create your workspace with: make workspace")
    if arguments.share:  # checked now, so that a mistake in them does not waste a whole check
        url, name = share_address(arguments.share), board_name(arguments.name)
    if arguments.section and arguments.share:
        sys.exit("Share a whole step's check with the instructor, not one section: leave out SECTION.")
    if arguments.share and is_exercise(stage):
        sys.exit("The instructor's board shows the lesson's steps, 0 to 3: share a step's check, not an exercise's.")
    if arguments.section and arguments.step is None:
        sys.exit('Name the step the section belongs to: make check STEP=3 SECTION="Catching up".')
    if arguments.step is None:
        passed, stage, promises = check_progress(app, arguments.verbose)
    else:
        try:
            only = section_tests(stage, arguments.section) if arguments.section else None
        except ValueError as error:
            sys.exit(str(error))
        passed, promises = check(app, stage, arguments.verbose, only)
    if arguments.share:
        share(url, name, stage, promises)  # whatever becomes of it, the check's result stands
    return 0 if passed else 1


sys.exit(main())
