"""Show text from outside (paths, names) in logs and messages without letting it forge
lines or drive a terminal: control characters become escapes."""

import unicodedata
from pathlib import Path

UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
"""Control characters (C0, DEL, C1: NUL, newline, ESC, …), lone surrogates (which no
file name can encode), and the Unicode line and paragraph separators."""


def is_unsafe(character: str) -> bool:
    return unicodedata.category(character) in UNSAFE_CATEGORIES


def first_unsafe(text: str) -> int | None:
    """The index of the first unsafe character of ``text``, if any."""
    return next((index for index, char in enumerate(text) if is_unsafe(char)), None)


def _escape(character: str) -> str:
    if character == "\\":
        return "\\\\"
    if not is_unsafe(character):
        return character
    shown = repr(character)[1:-1]  # '\n', '\x00', '\u2028', '\ud800'
    return shown if shown.startswith("\\") else f"\\u{ord(character):04x}"


def printable(value: str | Path) -> str:
    """``value`` as text on one line: unsafe characters as Python escapes (``\\n``,
    ``\\x00``, ``\\u2028``), and backslashes doubled so that an escape cannot be faked."""
    text = str(value)
    if "\\" not in text and first_unsafe(text) is None:
        return text
    return "".join(_escape(character) for character in text)
