"""Strict reading of query-string parameters, shared by the JSON API and the HTML pages.

Every parameter is single-valued: given twice, it is refused rather than one of the
values silently chosen. Whole numbers are ASCII digits only (``str.isdigit`` also
accepts ², ① and ٣, which ``int`` then rejects or reads as another number). Enums
accept exactly their documented values. Each refusal is a :class:`QueryError` naming
the parameter, which both front ends turn into a 400.

>>> from werkzeug.datastructures import MultiDict
>>> integer(MultiDict({"size": "20"}), "size", default=10, maximum=100)
20
"""

from __future__ import annotations

import re
from typing import Iterable

from werkzeug.datastructures import MultiDict

from search.errors import QueryError

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
#: Values are echoed in messages at most this long (a message never grows with the input).
SHOWN = 20


def shown(text: str) -> str:
    return repr(text[:SHOWN] + ("…" if len(text) > SHOWN else ""))


def check_names(args: MultiDict, accepted: Iterable[str]) -> None:
    """Refuse a parameter outside ``accepted`` and one given more than once."""
    accepted = tuple(accepted)
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        listed = ", ".join(accepted) if accepted else "none"
        raise QueryError(f"unknown parameter {shown(unknown[0])}; accepted: {listed}", param=unknown[0][:100])
    for name in args:
        count = len(args.getlist(name))
        if count > 1:
            raise QueryError(f"{name} was given {count} times; give it once", param=name)


def single(args: MultiDict, name: str, *, blank_is_missing: bool = False) -> str | None:
    """The one value of ``name``, or ``None`` if absent (or blank, for form fields)."""
    values = args.getlist(name)
    if len(values) > 1:
        raise QueryError(f"{name} was given {len(values)} times; give it once", param=name)
    if not values:
        return None
    value = values[0]
    if blank_is_missing and not value.strip():
        return None
    return value


def integer(args: MultiDict, name: str, *, default: int, maximum: int, minimum: int = 1, blank_is_missing: bool = False) -> int:
    """A whole number written with the digits 0-9, between ``minimum`` and ``maximum``."""
    raw = single(args, name, blank_is_missing=blank_is_missing)
    if raw is None:
        return default
    text = raw.strip(" \t")
    if not _DIGITS.fullmatch(text):
        raise QueryError(f"{name} must be a whole number written with the digits 0-9, got {shown(raw)}", param=name)
    if len(text.lstrip("0")) > len(str(maximum)) or int(text) > maximum:
        raise QueryError(f"{name} is too large: at most {maximum}, got {shown(text)}", param=name)
    value = int(text)
    if value < minimum:
        raise QueryError(f"{name} must be between {minimum} and {maximum}, got {value}", param=name)
    return value


def bounded_text(args: MultiDict, name: str, maximum: int) -> str:
    """The text of ``name`` without surrounding spaces (``""`` if absent), at most ``maximum`` characters."""
    value = args.get(name, "").strip()
    if len(value) > maximum:
        raise QueryError(f"{name} must be at most {maximum} characters", param=name)
    return value


def choice(args: MultiDict, name: str, choices: tuple[str, ...], *, blank_is_missing: bool = False) -> str | None:
    """One of ``choices`` exactly, or ``None`` if absent."""
    raw = single(args, name, blank_is_missing=blank_is_missing)
    if raw is None:
        return None
    value = raw.strip() if blank_is_missing else raw
    if value not in choices:
        listed = ", ".join(choices[:-1]) + " or " + choices[-1]
        raise QueryError(f"{name} must be {listed}, got {shown(raw)}", param=name)
    return value


def not_blank(args: MultiDict, names: Iterable[str]) -> None:
    """Refuse ``name=`` with nothing after it where the API documents no empty value."""
    for name in names:
        raw = single(args, name)
        if raw is not None and not raw.strip():
            raise QueryError(f"{name} must not be empty (leave it out instead)", param=name)
