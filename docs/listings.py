"""Code listings for the lesson, taken from the stage folders by cog.

In a page, a listing is written between cog markers, for example:

    <!-- [[[cog show("step1_server/server.py", "broadcast") ]]] -->
    ...the code, written here by `make docs`...
    <!-- [[[end]]] -->

`make docs` rewrites every listing from the code; `make test` fails when a page
and the code have drifted apart (cog --check). Every listing starts with a line
that names the file it comes from, so that a reader knows where to type it.
"""

import ast
import difflib
from pathlib import Path

import cog

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {".py": "python", ".js": "javascript", ".html": "html", ".css": "css", ".conf": "nginx"}


def fence(code, language, caption):
    """A fenced code block, under its caption: the line that names its file."""
    cog.outl(caption)
    cog.outl(f"```{language}")
    cog.out(code if code.endswith("\n") else code + "\n")
    cog.outl("```")


def show(path, *names):
    """Show a whole file, or only the named top-level functions and assignments of a
    Python file (with their decorators and the comments just above them)."""
    source = (ROOT / path).read_text()
    if not names:
        return fence(source, LANGUAGES[Path(path).suffix], f"`{path}`, the whole file:")
    lines = source.splitlines(keepends=True)
    nodes = ast.parse(source).body
    missing = set(names) - {defined_name(node) for node in nodes}
    if missing:
        raise ValueError(f"{path} defines no {', '.join(sorted(missing))}")
    spans = []  # [first, end) line numbers of what to show
    for node in nodes:
        if defined_name(node) in names:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
            while first > 0 and lines[first - 1].lstrip().startswith("#"):
                first -= 1
            if spans and not "".join(lines[spans[-1][1] : first]).strip():
                spans[-1][1] = node.end_lineno  # only blank lines between: show them as they are
            else:
                spans.append([first, node.end_lineno])
    parts = ["".join(lines[first:end]).rstrip("\n") for first, end in spans]
    fence("\n\n\n".join(parts), "python", f"From `{path}`:")


def show_js(path, *names):
    """Show some functions of a script (with the comments just above them): a name
    is a function's, or the start of a line, such as '$("#older").on('."""
    lines = (ROOT / path).read_text().splitlines()
    parts = []
    for name in names:
        starts = name if not name.isidentifier() else f"function {name}("
        found = [number for number, line in enumerate(lines) if line.lstrip().startswith(starts)]
        if len(found) != 1:
            raise ValueError(f"{path} has {len(found)} lines that start with {starts}")
        first = found[0]
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        end = next(number for number in range(first, len(lines)) if lines[number] in (indent + "}", indent + "});"))
        while first > 0 and lines[first - 1].lstrip().startswith("//"):
            first -= 1
        parts.append("\n".join(line.removeprefix(indent) for line in lines[first : end + 1]))
    fence("\n\n".join(parts), "javascript", f"From `{path}`:")


def show_method(path, class_name, *names):
    """Show some methods of a class, under its first line."""
    source = (ROOT / path).read_text()
    lines = source.splitlines(keepends=True)
    [cls] = [node for node in ast.parse(source).body if defined_name(node) == class_name]
    methods = [node for node in cls.body if getattr(node, "name", None) in names]
    if len(methods) != len(names):
        raise ValueError(f"{class_name} in {path} lacks some of {', '.join(names)}")
    parts = [lines[cls.lineno - 1].rstrip("\n") + "\n    ..."]
    parts += ["".join(lines[node.lineno - 1 : node.end_lineno]).rstrip("\n") for node in methods]
    fence("\n\n".join(parts), "python", f"From `{path}`:")


def defined_name(node):
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.If):  # "__main__", or "if REDIS_URL" for another top-level if
        test = ast.unparse(node.test)
        return "__main__" if test == "__name__ == '__main__'" else f"if {test}"
    return None


def diff(old, new):
    """The changes from one stage's file to the next stage's, as a diff."""
    changes = difflib.unified_diff(
        (ROOT / old).read_text().splitlines(keepends=True),
        (ROOT / new).read_text().splitlines(keepends=True),
        fromfile=old,
        tofile=new,
    )
    fence("".join(changes), "diff", f"The changes from `{old}` to `{new}`:")


def answer(exercise):
    """An exercise's reference answer, its patch as it is, folded away until the reader
    opens it: it is for after they have tried."""
    cog.outl("<details>")
    cog.outl(f"<summary>The whole answer: answers/{exercise}.patch (open it after you have tried)</summary>")
    cog.outl()
    patch = f"answers/{exercise}.patch"
    fence((ROOT / patch).read_text(encoding="utf-8"), "diff", f"`{patch}`, the whole file:")
    cog.outl()
    cog.outl("</details>")


def whole_step(stage, previous=None):
    """A step's whole change, folded away like an exercise's answer: each file of the
    stage that changed, as a diff from the previous stage's, and each new file whole.
    With no previous stage, every file is shown whole: step 0 is the app you start from."""
    if previous:
        summary = f"The whole change: from {previous}/ to {stage}/ (open it after you have tried)"
    else:
        summary = f"The whole app: every file of {stage}/"
    cog.outl("<details>")
    cog.outl(f"<summary>{summary}</summary>")
    for file in stage_files(stage):
        new, old = f"{stage}/{file}", f"{previous}/{file}"
        if previous and (ROOT / old).exists() and (ROOT / old).read_text() == (ROOT / new).read_text():
            continue  # unchanged
        cog.outl()
        if file.endswith(".min.js"):  # a library, copied as it is: nobody types it
            cog.outl(f"`{new}` is a library, copied as it is: not shown here.")
        elif previous and (ROOT / old).exists():
            diff(old, new)
        else:
            caption = f"`{new}`, a new file:" if previous else f"`{new}`, the whole file:"
            fence((ROOT / new).read_text(), LANGUAGES[Path(file).suffix], caption)
    cog.outl()
    cog.outl("</details>")


def stage_files(stage):
    """The files of a stage folder that make up the app (its code, its page and its
    style), as paths inside the folder: no database, no cache."""
    folder = ROOT / stage
    files = [path for path in folder.rglob("*") if path.is_file() and path.suffix in LANGUAGES]
    return sorted(path.relative_to(folder).as_posix() for path in files)
