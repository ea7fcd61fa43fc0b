"""The solution's promises about text: a name or a cheep shows what was written, and
only that. Each is stored in NFC and trimmed; control characters, controls that
turn the text around, text with nothing visible, letters buried under marks and
text too long for a reader are refused, each with a sentence that says why, over
POST as JSON, from the form and on the socket alike."""

import json
import re
import unicodedata
from dataclasses import dataclass

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_client import cheeps_since, newest_id, post_json, receive_json, send_cheep
from text_rules import (
    CHEEP_LIMIT,
    CODE_POINTS_PER_CHARACTER,
    DIRECTION_CONTROLS,
    MOST_MARKS,
    NAME_LIMIT,
    as_stored,
    characters,
    is_control,
    is_visible,
    most_marks_on_one_letter,
)

pytestmark = pytest.mark.stage("solution")

ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"  # a flag of 7 code points
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 7 code points


@dataclass
class Answer:
    stored: dict = None  # the stored cheep, when it was stored
    refusal: str = None  # the error message, when it was refused


def by_json(server, connect, name, cheep):
    response = post_json(server, name, cheep)
    if response.status_code == 201:
        return Answer(stored=response.json())
    assert response.status_code == 400, response.text[:200]
    return Answer(refusal=response.json()["message"])


def by_form(server, connect, name, cheep):
    before = newest_id(server)
    response = requests.post(server.url + "/api/cheep", data={"name": name, "cheep": cheep}, allow_redirects=False)
    if response.status_code == 303:
        [stored] = cheeps_since(server, before)
        return Answer(stored=stored)
    assert response.status_code == 400, response.text[:200]
    return Answer(refusal=response.json()["message"])


def by_socket(server, connect, name, cheep):
    client = connect()
    send_cheep(client, name, cheep)
    reply = receive_json(client)
    if reply["type"] == "cheep":
        return Answer(stored=reply)
    assert reply["type"] == "error", reply
    return Answer(refusal=reply["message"])


WAYS = {"POST JSON": by_json, "the form": by_form, "the socket": by_socket}

# What each refusal must say, besides naming the field.
SAYS = {
    "control": r"control character",
    "direction": r"direction",
    "nothing visible": r"visible",
    "marks": r"marks",
    "length": r"1 to \d+ characters",
    "code points": r"code points",
}

# (field, value, the reason it is refused)
REFUSED = {
    "a new line in a name": ("name", "Ada\nLovelace", "control"),
    "a tab in a cheep": ("cheep", "one\ttwo", "control"),
    "NUL": ("cheep", "null\x00here", "control"),
    "a terminal escape": ("cheep", "\x1b[2J\x1b[31mall red", "control"),
    "DEL": ("name", "Ada\x7f", "control"),
    "a C1 control": ("cheep", "next\x85line", "control"),
    "a line separator": ("cheep", "one\u2028two", "control"),
    "a paragraph separator": ("name", "Ada\u2029Grace", "control"),
    "a right-to-left override in a name": ("name", "Ada\u202e", "direction"),
    "a left-to-right embedding": ("cheep", "\u202ahello", "direction"),
    "an isolate": ("cheep", "\u2067hello\u2069", "direction"),
    "zero-width spaces": ("name", "\u200b\u200b\u200b", "nothing visible"),
    "joiners": ("name", "\u200c\u200d", "nothing visible"),
    "a byte order mark": ("name", "\ufeff", "nothing visible"),
    "a soft hyphen": ("cheep", "\u00ad", "nothing visible"),
    "combining marks alone": ("name", "\u0301\u0302", "nothing visible"),
    "Hangul fillers": ("name", "\u3164\u115f\u1160\uffa0", "nothing visible"),
    "a Braille blank": ("name", "\u2800\u2800", "nothing visible"),
    "a mix of invisible characters": ("cheep", "\u200b \u2800\u00a0\u2060", "nothing visible"),
    "seven marks on one letter": ("name", "Z\u0316\u0317\u0318\u0319\u031a\u031b\u031c", "marks"),
    "seven marks, joiners between": (
        "name",
        "Z\u0316\u200d\u0317\u200d\u0318\u200d\u0319\u200d\u031a\u200d\u031b\u200d\u031c",
        "marks",
    ),
    "a letter and 75 marks": ("cheep", "x" + "\u0300" * 75, "marks"),
    "a 33-character name": ("name", "n" * 33, "length"),
    "77 flags": ("cheep", "\U0001f1eb\U0001f1f7" * 77, "length"),
    "44 flags of 7 code points each": ("cheep", ENGLAND * 44, "code points"),
    "19 families in a name": ("name", FAMILY * 19, "code points"),
}


@pytest.mark.parametrize("way", WAYS.values(), ids=WAYS.keys())
@pytest.mark.parametrize("field, value, reason", REFUSED.values(), ids=REFUSED.keys())
def test_text_that_shows_something_else_is_refused_with_its_reason_and_not_stored(
    server, connect, way, field, value, reason
):
    """Text that would show something other than what was written is refused with its reason, and not
    stored."""
    before = newest_id(server)
    fields = {"name": "Ada", "cheep": "hello", field: value}
    answer = way(server, connect, fields["name"], fields["cheep"])
    assert answer.refusal is not None, f"{value!r} as the {field} was stored: {answer.stored}"
    assert f'"{field}"' in answer.refusal and re.search(SAYS[reason], answer.refusal), (
        f"Refused with {answer.refusal!r}, which does not say why: {reason}."
    )
    assert cheeps_since(server, before) == [], "A refused cheep was stored."


ACCEPTED = {
    "Vietnamese, accents sent apart": unicodedata.normalize("NFD", "Tiếng Việt: người, phở, đường"),
    "Hindi conjuncts": "स्त्री और हिन्दी",
    "Sanskrit": "कार्त्स्न्य",
    "Tibetan stacks": "བསྒྲུབས་ སྒྲུབ",
    "Tibetan mantra syllable, 5 marks": "\u0f56\u0fb7\u0fb2\u0f71\u0f74\u0f7e",
    "Biblical Hebrew, 5 marks on a letter": "\u05e9\u05bc\u05c1\u05b8\u0591\u05bd\u05dc\u05d5\u05b9\u05dd",
    "Thai tone marks": "สวัสดีครับ ที่นี่ น้ำ",
    "Arabic with harakat": "السَّلَامُ عَلَيْكُمْ",
    "Hebrew with niqqud and dagesh": "שָׁלוֹם שַּׁבָּת בְּרֵאשִׁ֖ית",
    "Korean, letters sent apart": unicodedata.normalize("NFD", "안녕하세요"),
    "Japanese": "こんにちは、世界",
    "Greek": "Καλημέρα κόσμε",
    "emoji": "❤️ 1️⃣ #️⃣ 👍🏽 " + FAMILY + " 🇫🇷 " + ENGLAND + " 🧑🏿‍🚀 👩🏽‍❤️‍💋‍👨🏻",
    "right-to-left marks": "\u05e9\u05dc\u05d5\u05dd\u200f!",
    "spaces at both ends": "  \u00a0Ada Lovelace\u3000 ",
}


@pytest.mark.parametrize("way", WAYS.values(), ids=WAYS.keys())
@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_real_text_in_many_scripts_is_stored_in_nfc_and_trimmed(server, connect, way, text):
    """Real text in many scripts is stored in NFC, and trimmed."""
    written = unicodedata.normalize("NFC", text).strip()
    before = newest_id(server)
    answer = way(server, connect, text[:NAME_LIMIT], text)
    assert answer.refusal is None, f"{text!r} was refused: {answer.refusal}"
    assert answer.stored["cheep"] == written
    assert answer.stored["name"] == unicodedata.normalize("NFC", text[:NAME_LIMIT]).strip()
    assert [c["cheep"] for c in cheeps_since(server, before)] == [written]


def test_an_accent_sent_apart_comes_back_joined_to_its_letter(server, connect):
    """An accent sent apart from its letter comes back joined to it."""
    client = connect()
    before = newest_id(server)
    send_cheep(client, "Rene\u0301", "Cafe\u0301 au lait")
    assert receive_json(client)["cheep"] == "Caf\u00e9 au lait"
    [stored] = cheeps_since(server, before)
    assert (stored["name"], stored["cheep"]) == ("Ren\u00e9", "Caf\u00e9 au lait")


LONGEST = {  # what a reader sees as 32 or 76 characters, however many code points
    "32 flags in a name": ("\U0001f1eb\U0001f1f7" * 32, "hello"),
    "16 families in a name": (FAMILY * 16, "hello"),
    "76 accented letters": ("Ada", "e\u0301" * 76),
    "76 flags": ("Ada", "\U0001f1eb\U0001f1f7" * 76),
    "43 flags of 7 code points each": ("Ada", ENGLAND * 43),
    "76 Devanagari syllables": ("Ada", "कि" * 76),
}


@pytest.mark.parametrize("name, cheep", LONGEST.values(), ids=LONGEST.keys())
def test_the_limits_count_the_characters_a_reader_sees(server, name, cheep):
    """The limits count the characters a reader sees."""
    response = post_json(server, name, cheep)
    assert response.status_code == 201, response.text[:200]
    assert response.json()["cheep"] == unicodedata.normalize("NFC", cheep)


# Whole words in many scripts and emoji, characters that break a rule, rows of marks,
# chains of emoji, and any character at all: put together at random.
WORDS = [
    "Ada",
    "Grace",
    " ",
    "!",
    "\u00e9",
    "e\u0301",
    "\uc548\ub155",
    "\u1100\u1161\u11a8",
    "\u05e9\u05b8\u05c1",
    "\u0938\u094d\u0924\u094d\u0930\u0940",
    "\u0f66\u0f92\u0fb2\u0f74",
    "\u0e17\u0e35\u0e48",
    "\U0001f1eb\U0001f1f7",
    "\U0001f44d\U0001f3fd",
    "1\ufe0f\u20e3",
    FAMILY,
    ENGLAND,
]
TRICKY = (
    "\t\n\r\x00\x1b\x7f\x85\u2028\u2029"  # controls
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"  # direction
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f\u3164\u115f\u1160\u2800\ufe0f\ufe0e"  # invisible
    " \u00a0\u3000\u2003"  # spaces
    "\u0300\u0301\u0302\u0316\u0323\u05b4\u05bc\u0e48\u0f92\u094d\u20e3"  # marks
)
pieces = (
    st.sampled_from(WORDS)
    | st.sampled_from(TRICKY)
    | st.characters(exclude_categories=())
    | st.integers(1, 9).map(lambda n: "a" + "\u0316" * n)  # a letter under n marks
    | st.integers(1, 45).map(lambda n: ENGLAND * n)  # a row of flags, 7 code points each
)
texts = st.lists(pieces, max_size=12).map(lambda pieces: "".join(pieces)[:1000])  # 16 KiB at most in a post


def post_as_utf8(server, name, cheep):
    """POST a cheep as JSON in UTF-8, as a browser sends it: 4 bytes at most for each
    code point, where Python's json.dumps spells an emoji in 12. A half character
    cannot be UTF-8: it is spelled as JSON spells it, "\\ud800"."""
    body = json.dumps({"name": name, "cheep": cheep}, ensure_ascii=False)
    body = re.sub("[\ud800-\udfff]", lambda half: f"\\u{ord(half.group()):04x}", body)
    return requests.post(server.url + "/api/cheep", data=body.encode(), headers={"Content-Type": "application/json"})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.just("Ada") | texts, cheep=st.just("hello") | texts)  # often one at a time
def test_any_text_is_refused_with_a_reason_or_stored_exactly_as_written(server, name, cheep):
    """Any text is refused with a reason, or stored exactly as written."""
    before = newest_id(server)
    response = post_as_utf8(server, name, cheep)
    expected = as_stored(name, NAME_LIMIT), as_stored(cheep, CHEEP_LIMIT)
    if response.status_code == 400:
        message = response.json()["message"]
        assert None in expected, f"{name!r}, {cheep!r} was refused: {message}"
        wrong = "name" if expected[0] is None else "cheep"  # the name is checked first
        assert f'"{wrong}"' in message, f"Refused for the wrong field: {message}"
        assert cheeps_since(server, before) == []
        return
    assert response.status_code == 201, response.text[:200]
    stored = response.json()
    assert (stored["name"], stored["cheep"]) == expected
    for text, limit in ((stored["name"], NAME_LIMIT), (stored["cheep"], CHEEP_LIMIT)):
        assert not any(is_control(c) or c in DIRECTION_CONTROLS for c in text)
        assert any(is_visible(c) for c in text)
        assert most_marks_on_one_letter(text) <= MOST_MARKS
        assert 1 <= len(characters(text)) <= limit and len(text) <= CODE_POINTS_PER_CHARACTER * limit
    assert cheeps_since(server, before) == [stored]


def test_a_run_of_spaces_is_stored_as_one_so_that_no_cheep_fakes_a_line_of_its_own(server):
    """A run of spaces is stored as one, so that no cheep fakes a line of its own."""
    # A page shows a run of ordinary spaces as one, but not wide ones: 40 of them would
    # push "Grace: …" onto a line of its own, as if Grace had cheeped it.
    response = post_json(server, "Mallory", "Hi" + "\u3000" * 40 + "Grace: I owe Mallory 100 euros")
    assert response.status_code == 201, response.text[:200]
    assert response.json()["cheep"] == "Hi Grace: I owe Mallory 100 euros"
