"""Share your progress with the instructor, only when you ask: make check SHARE=... NAME=...

One small report goes to the instructor's Cheeper, and nothing else: your name as
you typed it, the step checked, how many promises your app kept, and the first one
it did not keep. No code, no file names, nothing about your laptop.
"""

import http.client
import json
import re
import sys
import textwrap
import unicodedata
import urllib.error
import urllib.parse
import urllib.request

EXAMPLE = "http://192.168.1.20:5000"


def share_address(url):
    """The instructor's address, such as http://192.168.1.20:5000, without a final "/".

    Checked before the tests run, so that a typo does not cost a whole check."""
    url = url.strip()
    problem = (
        f'"{url}" is not an address to share with. Type it as the instructor shows it, such as {EXAMPLE} '
        "(http:// or https://, the address, a port if there is one, and nothing after)."
    )
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # reading it checks it: a port is a number from 0 to 65535
    except ValueError:
        sys.exit(problem)
    # A host is letters, digits, dots and dashes (or the colons of an IPv6 address); no "name@" before it.
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not re.fullmatch(r"[a-z0-9.:-]+", host) or "@" in parts.netloc:
        sys.exit(problem)
    # Rebuilt from its parts, the address must be what was typed: nothing after the host and port.
    base = f"{parts.scheme}://{parts.netloc}"
    if url.lower() not in (base.lower(), base.lower() + "/"):
        sys.exit(problem)
    return base


def board_name(name):
    """The name to show on the instructor's board: asked for if it was not given."""
    if name is None:
        if not sys.stdin.isatty():
            sys.exit(
                "Sharing needs your name for the instructor's board: "
                "add NAME=Ada (with make) or --name Ada (with python -m workshop), with your own name."
            )
        try:
            name = input("Your name on the instructor's board: ")
        except (EOFError, KeyboardInterrupt):
            sys.exit("\nNo name given: nothing was checked, and nothing shared.")
    name = name.strip()
    if not name:
        sys.exit("Your name for the instructor's board is empty: give one, such as NAME=Ada or --name Ada.")
    if len(name) > 32:
        sys.exit(
            f"Your name for the instructor's board is {len(name)} characters long, "
            "and the board shows at most 32: give a shorter one."
        )
    if any(unicodedata.category(character) == "Cc" for character in name):
        sys.exit(
            "Your name for the instructor's board holds a control character (a tab, say): type it again without one."
        )
    return name


def share(url, name, stage, promises):
    """Send one report to the instructor's Cheeper, and say what was sent and what became of it.

    Whatever happens here, the check's own result stands: nothing is raised."""
    failed = [promise for promise in promises if promise.outcome == "failed"]
    progress = {
        "name": name,
        "step": stage,
        "kept": len(promises) - len(failed),  # a skip counts as kept, as in the report
        "promises": len(promises),
        "failing": failed[0].sentence if failed else None,
    }
    failing = f'the first failing: "{progress["failing"]}"' if failed else "none failing"
    sent = (
        f'your name "{name}", step {stage}, {progress["kept"]} of {progress["promises"]} promises kept, '
        f"{failing}. Nothing else left this laptop."
    )

    request = urllib.request.Request(
        url + "/api/progress",
        data=json.dumps(progress).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    print()
    try:
        with urllib.request.urlopen(request, timeout=5):
            pass
    except urllib.error.HTTPError as answer:  # the Cheeper answered, with a 4xx or 5xx
        tell(f"Sent to the instructor at {url}: {sent}")
        tell(f"The instructor's Cheeper did not take it: {refusal(answer)} The check's own result above still stands.")
    except (OSError, http.client.HTTPException) as error:  # no answer at all
        tell(
            f"The instructor's Cheeper could not be reached at {url}: {in_words(error)}. "
            "The check's own result above still stands."
        )
    else:  # a 2xx: anything else raises one of the errors above
        tell(f"Shared with the instructor at {url}: {sent}")
        tell("The instructor's Cheeper received it.")


def tell(text):
    print(textwrap.fill(text, width=88))


def refusal(answer):
    """The reason the Cheeper gives, from its answer {"type": "error", "message": "..."}."""
    try:
        message = str(json.loads(answer.read())["message"])
    except (OSError, ValueError, KeyError, TypeError):  # not a Cheeper's answer, or cut short
        message = f"it answered {answer.code} {answer.reason}."
    # Printed without control characters: they could rewrite what the terminal shows.
    return "".join(character for character in message if character.isprintable())[:300]


def in_words(error):
    """'Connection refused', rather than '<urlopen error [Errno 111] Connection refused>'."""
    reason = getattr(error, "reason", error)  # a URLError wraps the real error
    if isinstance(reason, TimeoutError):
        return "no answer within 5 seconds"
    return getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
