"""Errors in your own code, found in what your server and your page printed.

A Python traceback, or an error the browser caught in the page's JavaScript,
that points into your folder names the mistake better than any symptom: the
check says it first, quoting the error and your file and line.
"""

import re
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path

from workshop.stages import LESSONS, ROOT, kept_stages

# The line that ends a Python traceback: the error and what it says ("NameError: name 'x' is not defined").
ERROR = re.compile(r"^([^:\s]+)(?::[ \t]*(.*))?$")
# A line of a traceback that names a place in a file (a SyntaxError's has no function).
PLACE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>\S+))?')
# How tests/conftest.py passes on an error the browser caught in a page.
PAGE_ERROR = "The page's JavaScript stopped with an error:"
# The line tests/browser.py adds after an error on a page that no test asked for: one
# the form's own post loaded. A test types into it as into the page before, which may
# not be ready yet (its socket still opening): the post is the likelier cause.
AFTER_A_POST = (
    "This error happened on the page that the form's own post loaded: the page reloaded when the form was sent."
)
# A line of a JavaScript stack: "    at send (http://127.0.0.1:5000/static/cheeper.js:12:5)".
JS_PLACE = re.compile(r"at (?:(?P<function>[\w.$<>]+) \()?https?://[^/\s]+/(?P<path>static/[^:\s)]+):(?P<line>\d+):\d+")
# Not crashes: Ctrl+C and a planned exit, which the Ctrl+C promises are about.
NOT_CRASHES = ("KeyboardInterrupt", "SystemExit")


@dataclass(frozen=True)
class Crash:
    error: str  # "NameError: name 'broadcast' is not defined"
    place: str  # "workspace/server.py, line 87, in ws"; "" when no line of the traceback is yours
    in_page: bool = False  # JavaScript in the browser, not Python on the server
    text: str = ""  # the whole traceback, for the hints' evidence
    after_a_post: bool = False  # on a page that the form's own post loaded

    @property
    def sentence(self):
        who = "Your page's JavaScript stopped" if self.in_page else "Your server crashed"
        if self.after_a_post:
            who += " after the form posted itself and the page reloaded"
        return f"{who}: {self.error}" + (f" — {self.place}." if self.place else "")

    @property
    def missing_name(self):
        """The name Python or JavaScript did not know, if that was the error."""
        found = re.match(r"(?:NameError: name '(\w+)'|ReferenceError: ([\w$]+)) is not defined", self.error)
        return found and (found[1] or found[2])


def crashes_in(app, printed):
    """Every crash in your own code that the text shows, once each, in order."""
    found = []
    for crash in [*python_crashes(app, printed), *page_crashes(app, printed)]:
        if crash.error.split(":")[0] not in NOT_CRASHES and crash not in found:
            found.append(crash)
    return found


def python_crashes(app, printed):
    """Python's tracebacks: the places it names (File "...", line ...), then the error.
    A SyntaxError in the file Python runs comes without the "Traceback" line."""
    places, lines = [], []
    for line in printed.splitlines():
        if place := PLACE.match(line):
            places.append(place)
        elif places and line.strip() and not line.startswith(" "):  # the line that ends a traceback
            error = ERROR.match(line)
            name = error[1].rpartition(".")[2]  # json.decoder.JSONDecodeError: JSONDecodeError
            # An error with no line of yours: Flask's, say, for a view that returned nothing.
            yield Crash(
                f"{name}: {error[2]}" if error[2] else name, yours(app, places) or "", text="\n".join([*lines, line])
            )
            places, lines = [], []
            continue
        elif not line.startswith(" "):  # the traceback ended, or has not begun
            places, lines = [], []
        lines.append(line)


def yours(app, places):
    """The last of the places that is in the app's own folder, in words; None if none is."""
    folder = Path(app).resolve()
    for place in reversed(places):
        path = Path(place["path"]).resolve()
        if path.is_relative_to(folder):
            words = f"{Path(app).name}/{path.relative_to(folder).as_posix()}, line {place['line']}"
            return words + (f", in {place['function']}" if place["function"] else "")
    return None


def page_crashes(app, printed):
    for part in printed.split(PAGE_ERROR)[1:]:
        error, *rest = part.strip().splitlines()
        stack = list(takewhile(lambda line: line.lstrip().startswith("at "), rest))  # then others' output
        after_the_stack = rest[len(stack) :]
        after_a_post = bool(after_the_stack) and after_the_stack[0] == AFTER_A_POST
        text = "\n".join([error, *stack, AFTER_A_POST] if after_a_post else [error, *stack])
        yield Crash(error.strip(), your_page_place(app, stack), in_page=True, text=text, after_a_post=after_a_post)


def your_page_place(app, stack):
    """The first line of the stack in your own files, in words; "" when there is none
    (a syntax error comes without a stack)."""
    for place in map(JS_PLACE.search, stack):
        if place and "jquery" not in place["path"]:  # jQuery's own lines: the call into it was yours
            where = f"{Path(app).name}/{place['path']}, line {place['line']}"
            function = place["function"] and place["function"].split(".")[-1]
            return where + (f", in {function}" if function and not function.startswith("<") else "")
    return ""


def where_the_lesson_writes(name, stage):
    """(stage, section, "writes" or "imports"): where the lesson, up to this stage, first
    defines `name`: the first section whose listing (or text, in `code`) does, else the
    first whose diff adds it (a line starting with +); None if none does."""
    name = re.escape(name)
    definition = (
        rf"(?:def {name}\(|class {name}\b|{name}\s*=[^=]|(?:from \S+ )?import (?:[\w., ]+, )?{name}\b"
        rf"|function {name}\(|(?:var|let|const) {name}\b)"
    )
    for start in (r"^\s*", r"^\+\s*"):
        for index in kept_stages(stage):
            section, in_code = None, False
            for line in (ROOT / LESSONS[index]).read_text(encoding="utf-8").splitlines():
                if line.startswith("```"):
                    in_code = not in_code
                    continue
                if not in_code and line.startswith("#"):
                    section = line.lstrip("#").strip()
                    continue
                # In a listing, a line that defines it; in the text, `code` that does.
                found = re.match(start + definition, line) if in_code else re.search(f"`{definition}", line)
                if section and found:
                    return index, section, "imports" if "import" in found[0] else "writes"
    return None
