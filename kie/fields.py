"""Tolerant readers for KIE's loosely typed JSON.

The documentation disagrees with itself about types: codes and flags come as 1 or "1", lists of URLs
as arrays or as JSON strings, empty values as null, "" or a missing key. These helpers absorb that so the
adapters can be written against one shape. Whatever cannot be read raises ``KieParseError``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kie.errors import KieError, KieParseError, as_code


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn any slip while reading a body into a KieParseError (KieErrors pass through untouched)."""
    try:
        yield
    except KieError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise KieParseError(f"{what}: unreadable answer ({type(exc).__name__}: {exc})") from exc


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one (absent and null objects read as empty)."""
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str | None:
    """A non-blank string (numbers are accepted, e.g. ``failCode: 400``); None for absent/null/""."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def first_text(source: Mapping[str, Any], *keys: str) -> str | None:
    """The first of ``keys`` holding a non-blank value (KIE spells many fields two ways)."""
    for key in keys:
        found = text(source.get(key))
        if found is not None:
            return found
    return None


def flag(source: Mapping[str, Any], key: str, *, what: str) -> int | None:
    """An integer flag such as ``successFlag`` sent as 1 or "1"; None when absent; error when garbage."""
    raw = source.get(key)
    if raw is None or raw == "":
        return None
    value = as_code(raw)
    if value is None:
        raise KieParseError(f"{what}: {key}={raw!r} is not an integer")
    return value


def json_value(value: Any, *, what: str) -> Any:
    """A field documented as a JSON *string* that some answers send already decoded (or null/"")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise KieParseError(f"{what} is not valid JSON: {exc}") from None
    return value


def urls(value: Any, *, what: str) -> list[str]:
    """A list of URLs: an array, a single URL string, or an array encoded as a JSON string."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        value = json_value(value, what=what)
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if not isinstance(value, list):
        raise KieParseError(f"{what}: expected a list of URLs, got {type(value).__name__}")
    found: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise KieParseError(f"{what}: expected URL strings, got {type(item).__name__}")
        if item.strip():
            found.append(item.strip())
    return found


def fraction(value: Any, *, percent: bool, what: str) -> float | None:
    """A progress value as 0..1, from a number or a numeric string ("0.45", "45").

    ``percent`` says the documented scale is 0-100 (Market). A fraction-scale value above 1 is taken as a
    percentage too, since a fraction cannot exceed 1. Out-of-range values are clamped: progress is cosmetic.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise KieParseError(f"{what}: progress={value!r} is not a number") from None
    if not math.isfinite(number):
        raise KieParseError(f"{what}: progress={value!r} is not a number")
    if percent or number > 1:
        number /= 100
    return min(max(number, 0.0), 1.0)
