r"""The Unicode rules for a name and a cheep: text that shows what was written, and only that.

A string can hold far more than a reader sees: a new line, a character nobody
can see, a control that turns the text beside it around, a letter buried
under a hundred accents. protocol.check_text() asks this module about each
name and cheep, and refuses what would show something other than what was
written.

Python's own re module does not know what a reader sees as one character, so
this module uses the regex package: \X matches one character as a reader sees
it (a "grapheme cluster": a letter with its accents, a flag, a family emoji),
and \p{...} matches the characters Unicode puts in a group (\p{M}: the
combining marks, such as accents).
"""

import unicodedata

import regex


def tidy(text):
    """The text in NFC, trimmed of white space at both ends, each run of white
    space inside made one space: what is stored.
    A reader sees "é" whether it was sent as one code point or as "e" and an
    accent; NFC turns both into the one code point, so the same text is stored
    the same, and the rules below see it as the reader does. A page shows a run
    of ordinary spaces as one, but not a run of wide ones (U+3000, U+2003): that
    could push the rest of a cheep onto a line of its own, as if another cheep."""
    return SPACES.sub(" ", unicodedata.normalize("NFC", text).strip())


SPACES = regex.compile(r"\p{White_Space}{2,}")


# Tabs, new lines, NUL, escape (which drives a terminal), DEL, the C1 controls, and
# the line and paragraph separators: a name or a cheep is one line of text.
CONTROL = regex.compile(r"[\p{Cc}\u2028\u2029]")

# The controls that set the direction of the text after them, up to the end of the
# line: "Ada\u202e" makes the cheep beside it read backwards. (The marks U+200E and
# U+200F stay allowed: right-to-left writing needs them, and each acts as one letter.)
DIRECTION = regex.compile(r"[\u202a-\u202e\u2066-\u2069]")

# What leaves a mark on the screen: not white space, not a character that is
# invisible by definition (zero-width spaces and joiners, the byte order mark,
# the soft hyphen, the Hangul fillers: Unicode's Default_Ignorable_Code_Point),
# not a combining mark on its own, and not the blank Braille pattern U+2800.
VISIBLE = regex.compile(r"[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{M}\u2800]")

# Real writing puts a few marks on one letter: Vietnamese two, Thai two, Tibetan
# up to five (བྷྲཱུཾ), Biblical Hebrew five (a dot, a vowel, an accent and more).
# More is "Zalgo" text, whose marks pile up over the lines above and below. The
# marks in a row after one letter count, and an invisible character between them
# does not start a new row. Only marks drawn on the letter count (Mn, Me); a mark
# that takes a place beside it (Mc, as in Myanmar or Hindi) piles nothing up, and
# neither does an invisible one, such as the variation selector that asks for an
# emoji's colourful look. (?V1) lets a set leave some out: "--".
MOST_MARKS = 6
TOO_MANY_MARKS = regex.compile(
    r"(?V1)(?:[\p{Mn}\p{Me}--\p{Default_Ignorable_Code_Point}]"  # a mark drawn on the letter,
    r"\p{Default_Ignorable_Code_Point}*)"  # then any invisible characters,
    r"{%d}" % (MOST_MARKS + 1)  # one time more than allowed
)

# A flag, a family emoji or a Hindi syllable is one character to its reader, and
# several code points. Limits count characters as the reader sees them, so that
# "🇫🇷" costs what "F" costs. One such character can chain code points without
# end, though, so the code points of a whole text are capped too: 4 for each
# character allowed, more than any writing needs. A cheep of family emoji
# (7 code points each) may hold 43 of them.
CODE_POINTS_PER_CHARACTER = 4


def characters(text):
    """How many characters a reader sees in the text."""
    return len(regex.findall(r"\X", text))


def code_point_limit(limit):
    """The most code points a text of `limit` characters may take."""
    return CODE_POINTS_PER_CHARACTER * limit
