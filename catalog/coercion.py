"""Turn what a user (or the bot's form) sent into exactly the type KIE documents for an input.

KIE is picky and inconsistent: Kling wants ``duration`` as the string "5", Runway as the number 5, Seedance as
an integer. Users and buttons send whatever is handy, so we accept the obvious spellings and emit the one
KIE wants.
"""

from __future__ import annotations

import math
import re
from typing import Any

from catalog.specs import InputSpec

_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})
_INTEGER = re.compile(r"[+-]?\d+")


class CoercionError(ValueError):
    """The value cannot be read as the input's type."""


def coerce(spec: InputSpec, value: Any) -> Any:
    """``value`` converted to ``spec.type``; raises ``CoercionError``. Never mutates ``value``."""
    match spec.type:
        case "string":
            return _to_string(value)
        case "boolean":
            return _to_bool(value)
        case "integer":
            return _to_integer(value)
        case "number":
            return _to_number(value)
        case "array":
            return _to_array(spec, value)
    raise CoercionError(spec.type)


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    # 5 -> "5" (Kling duration); but True -> "True" or 0.5 -> "0.5" would only hide a mistake.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise CoercionError("string")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise CoercionError("boolean")


def _to_number(value: Any) -> int | float:
    """Integers stay integers (5, not 5.0) so KIE gets exactly what the docs show."""
    if isinstance(value, bool):
        raise CoercionError("number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CoercionError("number")
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        try:
            number = float(text.replace(",", "."))  # "0,5" from Russian keyboards
        except ValueError:
            raise CoercionError("number") from None
        if math.isfinite(number):
            return number
    raise CoercionError("number")


def _to_integer(value: Any) -> int:
    number = _to_number(value) if not isinstance(value, bool) else None
    if isinstance(number, int):
        return number
    if isinstance(number, float) and number.is_integer():
        return int(number)
    raise CoercionError("integer")


def _to_array(spec: InputSpec, value: Any) -> list[Any]:
    if isinstance(value, str) and spec.items in ("uri", "string"):
        value = [value]  # one photo for a field that takes several
    if not isinstance(value, (list, tuple)):
        raise CoercionError("array")
    items = list(value)
    if spec.items in ("uri", "string") and not all(isinstance(item, str) for item in items):
        raise CoercionError("array")
    if spec.items == "object" and not all(isinstance(item, dict) for item in items):
        raise CoercionError("array")
    return [dict(item) if isinstance(item, dict) else item for item in items]
