"""JSON from outside (clients, the CLI's output), read safely: pure, no I/O.

Three things valid JSON may hold trip Python up:

- **Deep nesting.** ``json.loads`` raises ``RecursionError`` near 1000 levels, and
  whatever it built needs as much stack again to be validated or encoded. A client
  message may nest :data:`MAX_NESTING` levels (:func:`nested_deeper_than`), a CLI
  output line :data:`MAX_LINE_NESTING` (:func:`text_nested_deeper_than`).
- **Lone surrogates.** ``"\\ud800"`` is valid JSON but not Unicode text: such a string
  cannot be encoded as UTF-8, so neither SQLite nor a WebSocket text frame takes it.
  A client message holding one is refused (:func:`holds_lone_surrogate`). A CLI line
  holding one passes on unchanged (it is JSON text with the escape, which is valid
  UTF-8); in the values Switchboard reads out of it, each lone surrogate becomes
  U+FFFD (:func:`replace_lone_surrogates`).
- **Huge integers.** Python refuses to turn more than 4300 digits into an ``int``
  (the conversion is quadratic); JavaScript reads such a number as ``Infinity``.
  :func:`loads` reads an integer too long for ``int`` as a float (``inf``), like
  JavaScript does.
"""

import json
import re
from typing import Any

MAX_NESTING = 64
"""How many levels of objects and arrays a client message may nest."""

MAX_LINE_NESTING = 500
"""How deep a CLI output line may nest and still be read. Python's json (and msgspec)
give up near 1000 levels minus the caller's stack, so without a fixed limit whether a
line is JSON would depend on where it is read; the real CLI nests a few dozen at most."""

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")

_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}|[\ud800-\udfff]")
"""A surrogate escape in JSON text, or a surrogate itself (text not read from UTF-8)."""
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def loads(text: str | bytes) -> Any:
    """``json.loads``, except that integers of more digits than Python converts are
    read as floats. Raises what ``json.loads`` raises for text that is not JSON."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except ValueError:  # an integer past sys.get_int_max_str_digits()
        return json.loads(text, parse_int=_int_or_float)


def _int_or_float(digits: str) -> int | float:
    try:
        return int(digits)
    except ValueError:
        return float(digits)


def nested_deeper_than(value: Any, limit: int, text: str | None = None) -> bool:
    """True if ``value`` nests objects and arrays more than ``limit`` levels deep.
    ``text``, the JSON it was read from, lets a shallow message skip the walk."""
    if text is not None and text.count("[") + text.count("{") <= limit:
        return False
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def text_nested_deeper_than(text: bytes, limit: int) -> bool:
    """True if the JSON ``text`` nests objects and arrays more than ``limit`` levels
    deep, judged from its brackets outside strings, without parsing it. Text with at
    most ``limit`` brackets is never walked."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub(b"", text)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def may_hold_surrogates(text: str) -> bool:
    """Whether JSON ``text`` has a surrogate escape (lone or in a pair), the only way a
    lone surrogate gets into what ``json.loads`` builds from text read as UTF-8, or a
    surrogate itself.

    Every CLI line passes here, so the common case is answered without the regex: text
    with no ``\\u`` in it that is all ASCII (``str.isascii`` reads a flag CPython keeps)
    can hold neither."""
    if "\\u" not in text and text.isascii():
        return False
    return _SURROGATE.search(text) is not None


def holds_lone_surrogate(value: Any) -> bool:
    """True if a string in ``value`` (a key or a value, at any depth) has one."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def replace_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys included) replaced by
    U+FFFD (``json.loads`` has already joined the valid pairs). Objects and arrays are
    changed in place, without recursion: they may nest as deeply as ``json`` reads."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(REPLACEMENT, value)
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if any(_LONE_SURROGATE.search(key) for key in item if isinstance(key, str)):
                renamed = [(replace_lone_surrogates(key), child) for key, child in item.items()]
                item.clear()
                item.update(renamed)
            for key, child in item.items():  # replacing values leaves the keys as they are
                if isinstance(child, str):
                    item[key] = _LONE_SURROGATE.sub(REPLACEMENT, child)
                elif isinstance(child, dict | list):
                    stack.append(child)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str):
                    item[index] = _LONE_SURROGATE.sub(REPLACEMENT, child)
                elif isinstance(child, dict | list):
                    stack.append(child)
    return value
