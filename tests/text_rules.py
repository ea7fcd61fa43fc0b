"""What the protocol reference says a name or a cheep may hold, written out once more
for the tests, one character at a time: the tests do not take the app's word for it.
Character properties come from the regex package, as the app's do, so that both
know the same version of Unicode."""

import unicodedata

import regex

NAME_LIMIT, CHEEP_LIMIT = 32, 76  # characters, as a reader sees them
CODE_POINTS_PER_CHARACTER = 4  # and at most 4 times as many code points
MOST_MARKS = 6  # marks drawn on the letter (Mn, Me), in a row on one letter

DIRECTION_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}]")
BLANKS = {"\u2800"}  # the blank Braille pattern: a character, and nothing to see


def is_control(character):
    return unicodedata.category(character) == "Cc" or character in "\u2028\u2029"


def is_mark(character):
    return bool(regex.match(r"\p{M}", character))


def is_invisible(character):
    return bool(INVISIBLE.match(character))


def is_visible(character):
    return not (
        regex.match(r"\p{White_Space}", character)
        or is_invisible(character)
        or is_mark(character)
        or character in BLANKS
    )


def most_marks_on_one_letter(text):
    """The longest row of marks drawn on a letter (Mn, Me); invisible characters between
    them do not end a row."""
    most = row = 0
    for character in text:
        if unicodedata.category(character) in ("Mn", "Me") and not is_invisible(character):
            row += 1
            most = max(most, row)
        elif not is_invisible(character):
            row = 0
    return most


def characters(text):
    """The characters a reader sees: grapheme clusters."""
    return regex.findall(r"\X", text)


def as_stored(value, limit):
    """What the server stores for `value`, a name (limit 32) or a cheep (76):
    its NFC form, trimmed; or None when the server must refuse it."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # half a character
        return None
    value = regex.sub(r"\p{White_Space}{2,}", " ", unicodedata.normalize("NFC", value).strip())
    if any(is_control(c) or c in DIRECTION_CONTROLS for c in value):
        return None
    if most_marks_on_one_letter(value) > MOST_MARKS:
        return None
    if not 1 <= len(characters(value)) <= limit or len(value) > CODE_POINTS_PER_CHARACTER * limit:
        return None
    if not any(is_visible(c) for c in value):
        return None
    return value
