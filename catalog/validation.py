"""Check user inputs against a model and normalise them into the body KIE expects.

Three passes, so that every problem is reported at once and model rules see clean values:
read each value as its type; fill defaults; check limits (tightened by the model's conditional rules).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from catalog.coercion import CoercionError, coerce
from catalog.errors import FieldError, Rule, ValidationFailed
from catalog.specs import ConditionalRule, InputSpec, ModelSpec

# Which FieldError rule a violated constraint reports.
_RULE_FOR_CONSTRAINT: dict[str, Rule] = {
    "enum": "enum",
    "minimum": "min",
    "maximum": "max",
    "min_length": "min_length",
    "max_length": "max_length",
    "min_items": "min_items",
    "max_items": "max_items",
}


def is_blank(value: Any) -> bool:
    """None, "", whitespace and [] all mean "not given"."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def text_length(value: Any) -> int:
    """Characters of a text, or of all ``text`` members of a list of lines (ElevenLabs dialogue)."""
    if isinstance(value, str):
        return len(value)
    return sum(len(str(item.get("text", ""))) for item in value if isinstance(item, dict))


def validate_inputs(spec: ModelSpec, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict of normalised inputs for ``spec`` (documentation order), or ``ValidationFailed``.

    Optional inputs and system inputs that have a default get it; ``callBackUrl`` is left to the KIE adapter.
    Does not look at ``spec.enabled``: that is the catalog's business.
    """
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    unreadable: set[str] = set()

    for name, raw in inputs.items():
        field = spec.inputs.get(name)
        if field is None:
            errors.append(
                FieldError(field=name, rule="unknown_field", limits={"allowed": list(spec.user_inputs)})
            )
        elif field.system:
            errors.append(_error(field, "system_field"))
        elif not is_blank(raw):
            try:
                values[name] = coerce(field, raw)
            except CoercionError:
                unreadable.add(name)
                errors.append(_error(field, "type", {"expected": field.type}))

    for name, field in spec.inputs.items():
        if name not in values and name not in unreadable and field.default is not None:
            values[name] = copy.deepcopy(field.default)

    effective, origins = _apply_rules(spec, values)
    for name, field in effective.items():
        if field.system or name in unreadable:
            continue
        if name not in values:
            if field.required:
                origin = origins.get((name, "required"))
                errors.append(
                    _error(field, "required", {"when": origin.when} if origin else {}, origin=origin)
                )
            continue
        errors.extend(_check_limits(field, values[name], origins))

    if errors:
        raise ValidationFailed(spec.id, errors)
    return {name: values[name] for name in spec.inputs if name in values}


def check_value(field: InputSpec, value: Any) -> list[FieldError]:
    """Problems with one value on its own (type and limits, no model rules): used to vet data files."""
    try:
        coerced = coerce(field, value)
    except CoercionError:
        return [_error(field, "type", {"expected": field.type})]
    if coerced != value or type(coerced) is not type(value):
        return [_error(field, "type", {"expected": field.type})]
    return _check_limits(field, coerced, {})


def _apply_rules(
    spec: ModelSpec, values: dict[str, Any]
) -> tuple[dict[str, InputSpec], dict[tuple[str, str], ConditionalRule]]:
    """Input specs with the matching rules' requirements and limits applied, and which rule set what."""
    effective = dict(spec.inputs)
    origins: dict[tuple[str, str], ConditionalRule] = {}
    for rule in spec.rules:
        if not rule.applies_to(values):
            continue
        for name in rule.require:
            if not effective[name].required:
                effective[name] = effective[name].model_copy(update={"required": True})
                origins[(name, "required")] = rule
        for name, limits in rule.constrain.items():
            effective[name] = effective[name].model_copy(update=limits)
            origins.update({(name, key): rule for key in limits})
    return effective, origins


def _check_limits(
    field: InputSpec, value: Any, origins: dict[tuple[str, str], ConditionalRule]
) -> list[FieldError]:
    problems: list[tuple[str, Any, Any]] = []  # (constraint, limit, actual)
    if field.enum is not None and value not in field.enum:
        problems.append(("enum", field.enum, None))
    if field.type in ("number", "integer"):
        if field.minimum is not None and value < field.minimum:
            problems.append(("minimum", field.minimum, value))
        if field.maximum is not None and value > field.maximum:
            problems.append(("maximum", field.maximum, value))
    if field.type == "string" or (field.type == "array" and field.items == "object"):
        length = text_length(value)
        if field.min_length is not None and length < field.min_length:
            problems.append(("min_length", field.min_length, length))
        if field.max_length is not None and length > field.max_length:
            problems.append(("max_length", field.max_length, length))
    if field.type == "array":
        if field.min_items is not None and len(value) < field.min_items:
            problems.append(("min_items", field.min_items, len(value)))
        if field.max_items is not None and len(value) > field.max_items:
            problems.append(("max_items", field.max_items, len(value)))

    errors = []
    for constraint, limit, actual in problems:
        rule = _RULE_FOR_CONSTRAINT[constraint]
        if constraint == "enum":
            limits: dict[str, Any] = {"allowed": list(limit)}
        else:
            limits = {"min" if constraint.startswith("min") else "max": limit}
        origin = origins.get((field.name, constraint))
        if origin:
            limits["when"] = origin.when
        errors.append(_error(field, rule, limits, actual=actual, origin=origin))
    return errors


def _error(
    field: InputSpec,
    rule: Rule,
    limits: dict[str, Any] | None = None,
    *,
    actual: Any = None,
    origin: ConditionalRule | None = None,
) -> FieldError:
    return FieldError(
        field=field.name,
        rule=rule,
        limits=limits or {},
        actual=actual,
        title=field.title,
        media=field.media,
        reason=origin.reason if origin else None,
    )
