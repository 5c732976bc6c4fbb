"""Checks on what arrives from outside, made once here so a view, a form or a parser never does
its own `int()` or text check (and never fails on what a hostile client sends).

- Text: PostgreSQL cannot store a NUL character, and a lone surrogate (only JSON's "\\ud800" can
  carry one) cannot even be encoded to UTF-8 for an answer; both are refused with a sentence in
  the reader's language that never repeats the offending text.
- Integers: Python's `int()` raises on a string of more than 4,300 digits, accepts "٣" and
  refuses "²" although both are `isdigit()`; `parse_int` takes only ASCII digits, bounded.
"""

import re

from django.utils.translation import gettext as _

# Longer than any id (bigint has 19 digits), any count or score the platform takes.
MAX_INT_DIGITS = 18
_INTEGER = re.compile(rf"[+-]?[0-9]{{1,{MAX_INT_DIGITS}}}")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or shown, in the reader's language; None when it can."""
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return _("The text contains a NUL character.")
    return _("The text contains invalid characters.")


def first_text_problem(values) -> str | None:
    """The first problem among the strings of `values` (strings, lists, dicts: keys and values)."""
    found = find_text_problem(values)
    return found[1] if found else None


def find_text_problem(values) -> tuple[tuple, str] | None:
    """(where, why) of the first string in `values` that cannot be stored: `where` is the path of
    keys and list indexes to it (to a dict whose key is the bad text). Walked without recursion,
    so depth costs no stack."""
    pending = [((), values)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return path, problem
        elif isinstance(item, dict):
            for key, value in item.items():
                problem = text_problem(key) if isinstance(key, str) else None
                if problem:
                    return path, problem
                pending.append(((*path, key), value))
        elif isinstance(item, list | tuple):
            pending.extend(((*path, index), value) for index, value in enumerate(item))
    return None


def parse_int(value, *, low: int | None = None, high: int | None = None) -> int:
    """An integer from a form string or a JSON number, within [low, high]; ValueError otherwise
    (never OverflowError, TypeError or the digit limit's error)."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError("not a whole number")
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError("out of range")
    return number


def int_or_none(value, *, low: int | None = None, high: int | None = None) -> int | None:
    """`parse_int`, or None for anything that is not such an integer (an optional filter, an id)."""
    try:
        return parse_int(value, low=low, high=high)
    except ValueError:
        return None


def local_path(value) -> str | None:
    """`value` when it is a path of this site ("/inbox/?view=mine") to send a browser back to, else
    None: never another site ("//evil.example", "/\\evil.example"), never a name redirect() would
    try to reverse, never a control character in the Location header."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value) or text_problem(value):
        return None
    return value
