"""Prices in credits, from ``catalog/data/prices.toml`` (see its header for the rules).

credits = unit price (flat, or by the chosen options) × units (seconds, started blocks of characters) × count.
Integers only, so the same inputs always cost the same on every worker and in every replay.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog.messages import format_value
from catalog.specs import InputSpec, LocalizedText, ModelSpec, localized
from catalog.validation import text_length
from genflow.translations import ntranslate
from genflow.translations import translate as _


class PriceRule(BaseModel):
    """One model's entry in prices.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    credits: int | None = Field(default=None, ge=0)
    by: list[str] = []
    options: dict[str, int] = {}
    per: str | None = None
    per_unit: LocalizedText | None = None
    chars_field: str | None = None
    per_chars: int | None = Field(default=None, ge=1)
    count: str | None = None
    free_daily_allowance: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> PriceRule:
        problems = []
        if (self.credits is None) == (not self.options):
            problems.append("give either `credits` or `by` + `options`")
        if bool(self.by) != bool(self.options):
            problems.append("`by` and `options` go together")
        if any(price < 1 for price in self.options.values()):
            problems.append("option prices must be at least 1")
        if self.per and self.chars_field:
            problems.append("use at most one of `per` and `chars_field`")
        if bool(self.per) != bool(self.per_unit):
            problems.append("`per` and `per_unit` go together")
        if bool(self.chars_field) != bool(self.per_chars):
            problems.append("`chars_field` and `per_chars` go together")
        if self.free_daily_allowance is not None:
            if self.credits != 0 or self.by or self.per or self.chars_field or self.count:
                problems.append("a free model has `credits = 0` and nothing else but `free_daily_allowance`")
        elif self.credits == 0:
            problems.append("`credits = 0` needs `free_daily_allowance`")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def free(self) -> bool:
        return self.free_daily_allowance is not None


class Price(BaseModel):
    """What one generation costs."""

    model_config = ConfigDict(frozen=True)

    credits: int
    free: bool = False
    free_daily_allowance: int | None = None
    rule: str  # how the number came about, for logs and support, e.g. "resolution=4K: 24"


def option_key(value: Any) -> str:
    """How an input value is written in ``options`` keys: true/false, 5 (not 5.0), 4K."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def compute_price(rule: PriceRule, spec: ModelSpec, values: dict[str, Any]) -> Price:
    """The price of validated ``values``; raises ``ValueError`` if a value the price depends on is missing."""
    if rule.free:
        return Price(
            credits=0,
            free=True,
            free_daily_allowance=rule.free_daily_allowance,
            rule=f"free, {rule.free_daily_allowance} per day",
        )
    missing = [name for name in [*rule.by, rule.per] if name is not None and name not in values]
    if missing:
        raise ValueError(f"{spec.id}: the price depends on {', '.join(missing)}, which is not set")
    if rule.options:
        key = "|".join(option_key(values[name]) for name in rule.by)
        if key not in rule.options:
            raise ValueError(f"{spec.id}: no price for {dict(zip(rule.by, key.split('|'), strict=True))}")
        unit = rule.options[key]
        label = ", ".join(f"{name}={option_key(values[name])}" for name in rule.by)
    else:
        unit = rule.credits or 0
        label = "flat"

    credits, expression = unit, str(unit)
    if rule.per:
        seconds = _as_int(values[rule.per])
        credits *= seconds
        expression += f" × {rule.per} {seconds}"
    if rule.chars_field and rule.per_chars:
        blocks = max(1, math.ceil(text_length(values.get(rule.chars_field, "")) / rule.per_chars))
        credits *= blocks
        expression += f" × {blocks} started {rule.per_chars} chars"
    if rule.count:
        count = _as_int(values.get(rule.count, 1))
        credits *= count
        expression += f" × {rule.count} {count}"
    if "×" in expression:
        expression += f" = {credits}"
    return Price(credits=credits, rule=f"{label}: {expression}")


def starting_price(rule: PriceRule, spec: ModelSpec) -> int:
    """The cheapest the model gets, for "from N credits" in menus."""
    if rule.free:
        return 0
    credits = min(rule.options.values()) if rule.options else (rule.credits or 0)
    if rule.per:
        credits *= _smallest_int(spec.inputs[rule.per])
    if rule.count:
        field = spec.inputs[rule.count]
        credits *= _smallest_int(field) if field.required or field.default is not None else 1
    return credits


def price_bounds(rule: PriceRule, spec: ModelSpec) -> tuple[int, int]:
    """The cheapest and dearest generation the rule allows, over the model's options and limits, for the
    model card's "N–M credits". Option combinations a conditional rule refuses (Runway 10 s in 1080p) are
    left out; text priced by length counts up to the input's ``max_length`` (one block without one)."""
    if rule.free:
        return 0, 0
    units = [rule.options["|".join(combo)] for combo in _allowed_combinations(rule, spec)] or [
        rule.credits or 0
    ]
    low, high = min(units), max(units)
    for name in (rule.per, rule.count):
        if name is None:
            continue
        field = spec.inputs[name]
        optional_count = name == rule.count and not field.required and field.default is None
        low *= 1 if optional_count else _smallest_int(field)
        high *= _largest_int(field)
    if rule.chars_field and rule.per_chars:
        longest = spec.inputs[rule.chars_field].max_length
        high *= max(1, math.ceil(longest / rule.per_chars)) if longest else 1
    return low, high


def _allowed_combinations(rule: PriceRule, spec: ModelSpec) -> list[tuple[str, ...]]:
    """Priced option combinations that no conditional rule of the model refuses."""
    allowed = []
    for combo in _option_combinations(rule, spec):
        chosen = dict(zip(rule.by, combo, strict=True))
        refused = False
        for model_rule in spec.rules:
            if not all(
                key in chosen and chosen[key] == option_key(value) for key, value in model_rule.when.items()
            ):
                continue
            for name, limits in model_rule.constrain.items():
                if (
                    name in chosen
                    and "enum" in limits
                    and chosen[name] not in map(option_key, limits["enum"])
                ):
                    refused = True
        if not refused and "|".join(combo) in rule.options:
            allowed.append(combo)
    return allowed


def describe_price(rule: PriceRule, spec: ModelSpec, lang: str) -> str:
    """The price list for a model card: "1K/2K — 18, 4K — 24 credits"; one line per combination when the
    price depends on several inputs ("Duration, s: 5, Sound: yes — 110 credits")."""
    if rule.free:
        return _("Free, up to {n} a day", lang, n=rule.free_daily_allowance)
    suffix = ""
    if rule.per and rule.per_unit:
        suffix += _(" per {unit}", lang, unit=localized(rule.per_unit, lang))
    if rule.chars_field:
        suffix += _(" per started {n} characters", lang, n=rule.per_chars)
    if rule.count:
        suffix += _(" × {input}", lang, input=spec.inputs[rule.count].title_for(lang))

    def priced(text: str, credits: int) -> str:
        # The word agrees with the last number: "1K/2K — 18, 4K — 24 кредита".
        return ntranslate("{prices} credit", "{prices} credits", credits, lang, prices=text) + suffix

    if not rule.options:
        return priced(str(rule.credits), rule.credits or 0)
    combos = [combo for combo in _option_combinations(rule, spec) if "|".join(combo) in rule.options]
    if len(rule.by) == 1:
        groups: dict[int, list[str]] = {}  # equal prices share a line: "1K/2K — 18"
        for (value,) in combos:
            groups.setdefault(rule.options[value], []).append(value)
        text = ", ".join(f"{'/'.join(values)} — {price}" for price, values in groups.items())
        return priced(text, list(groups)[-1])
    lines = []
    for combo in combos:
        labels = []
        for name, value in zip(rule.by, combo, strict=True):
            field = spec.inputs[name]
            shown = format_value(value == "true", lang) if field.type == "boolean" else value
            labels.append(f"{field.title_for(lang)}: {shown}")
        price = rule.options["|".join(combo)]
        lines.append(priced(f"{', '.join(labels)} — {price}", price))
    return "\n".join(lines)


def check_price_rule(rule: PriceRule, spec: ModelSpec) -> list[str]:
    """Why ``rule`` cannot price ``spec`` (empty when it can): unknown inputs, missing or extra options."""
    problems = []
    for name in [*rule.by, rule.per, rule.chars_field, rule.count]:
        if name is not None and name not in spec.inputs:
            problems.append(f"no input {name!r}")
    if problems:
        return problems
    for name in rule.by:
        field = spec.inputs[name]
        if not _option_values(field):
            problems.append(f"{name!r}: priced by option, so it needs an enum or to be a boolean")
        elif not field.required and field.default is None:
            problems.append(f"{name!r}: priced by option, so it must be required or have a default")
    if rule.by and not problems:
        expected = {"|".join(combo) for combo in _option_combinations(rule, spec)}
        if missing := sorted(expected - set(rule.options)):
            problems.append(f"options missing: {', '.join(missing)}")
        if unknown := sorted(set(rule.options) - expected):
            problems.append(f"options for values the model does not have: {', '.join(unknown)}")
    for name in (rule.per, rule.count):
        if name is not None and not _is_integer_like(spec.inputs[name]):
            problems.append(f"{name!r}: multiplies the price, so it must be a whole number")
    if rule.per and not spec.inputs[rule.per].required and spec.inputs[rule.per].default is None:
        problems.append(f"{rule.per!r}: multiplies the price, so it must be required or have a default")
    if rule.chars_field:
        field = spec.inputs[rule.chars_field]
        if not (field.type == "string" or (field.type == "array" and field.items == "object")):
            problems.append(f"{rule.chars_field!r}: priced by length, so it must be text")
    return problems


def _option_values(field: InputSpec) -> list[str]:
    if field.type == "boolean":
        return ["false", "true"]
    return [option_key(value) for value in field.enum or []]


def _option_combinations(rule: PriceRule, spec: ModelSpec) -> list[tuple[str, ...]]:
    return list(itertools.product(*(_option_values(spec.inputs[name]) for name in rule.by)))


def _as_int(value: Any) -> int:
    return int(float(value)) if isinstance(value, str) else int(value)


def _is_integer_like(field: InputSpec) -> bool:
    if field.enum:
        return all(_is_int_text(option_key(value)) for value in field.enum)
    return field.type == "integer"


def _is_int_text(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _smallest_int(field: InputSpec) -> int:
    if field.enum:
        return min(_as_int(value) for value in field.enum)
    return math.ceil(field.minimum) if field.minimum is not None else 1


def _largest_int(field: InputSpec) -> int:
    if field.enum:
        return max(_as_int(value) for value in field.enum)
    if field.maximum is not None:
        return math.floor(field.maximum)
    return max(1, _as_int(field.default)) if field.default is not None else 1
