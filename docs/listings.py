"""Code listings for the lesson, taken from the stage folders by cog.

In a page, a listing is written between cog markers, for example:

    <!-- [[[cog show("step1_server/server.py", "broadcast") ]]] -->
    ...the code, written here by `make docs`...
    <!-- [[[end]]] -->

`make docs` rewrites every listing from the code; `make test` fails when a page
and the code have drifted apart (cog --check).
"""
import ast
import difflib
from pathlib import Path

import cog

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {".py": "python", ".js": "javascript", ".html": "html", ".css": "css", ".conf": "nginx"}


def fence(code, language):
    cog.outl(f"```{language}")
    cog.out(code if code.endswith("\n") else code + "\n")
    cog.outl("```")


def show(path, *names):
    """Show a whole file, or only the named top-level functions and assignments of a
    Python file (with their decorators and the comments just above them)."""
    source = (ROOT / path).read_text()
    if not names:
        return fence(source, LANGUAGES[Path(path).suffix])
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
    fence("\n\n\n".join(parts), "python")


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
    fence("\n\n".join(parts), "javascript")


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
    fence("\n\n".join(parts), "python")


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
    fence("".join(changes), "diff")


def answer(exercise):
    """An exercise's reference answer, its patch as it is, folded away until the reader
    opens it: it is for after they have tried."""
    cog.outl("<details>")
    cog.outl(f"<summary>The whole answer: answers/{exercise}.patch (open it after you have tried)</summary>")
    cog.outl()
    fence((ROOT / "answers" / f"{exercise}.patch").read_text(encoding="utf-8"), "diff")
    cog.outl()
    cog.outl("</details>")
