"""Load and cross-check the packaged data: models/*.json, formats.toml, prices.toml.

The data is edited by hand, so loading checks everything a code review would: each model's defaults and
documented example pass its own validation, every model has a format and a complete price entry. All
problems are reported together, each with the file it comes from.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from catalog.after import (
    FollowUpSpec,
    RecipeSpec,
    check_followups,
    check_recipe,
    previous_placeholder,
)
from catalog.catalog import Catalog
from catalog.errors import CatalogDataError, ValidationFailed
from catalog.pricing import PriceRule, check_price_rule, compute_price
from catalog.specs import FormatSpec, ModelSpec
from catalog.validation import check_value, validate_inputs

DataDir = Path | Traversable


def default_data_dir() -> Traversable:
    return resources.files(__package__) / "data"


@cache
def get_catalog() -> Catalog:
    """The catalog shipped with the code, loaded once per process."""
    return load_catalog()


def load_catalog(data_dir: DataDir | None = None, *, prices_path: DataDir | None = None) -> Catalog:
    """Load a catalog from ``data_dir`` (default: the packaged data); raises ``CatalogDataError``.

    ``prices_path`` replaces ``<data_dir>/prices.toml``, e.g. to try a new price list.
    """
    root = data_dir if data_dir is not None else default_data_dir()
    problems: list[str] = []
    formats = _load_formats(root / "formats.toml", problems)
    models = _load_models(root / "models", problems)
    prices = _load_prices(prices_path if prices_path is not None else root / "prices.toml", problems)

    format_order = {fmt.id: index for index, fmt in enumerate(formats)}
    deadlines = {fmt.id: fmt.deadline_seconds for fmt in formats}
    for model in models:
        if model.format not in format_order:
            problems.append(f"models/{model.id}: unknown format {model.format!r}")
        problems.extend(f"models/{model.id}: {problem}" for problem in _check_model(model))
        problems.extend(f"models/{model.id}: {problem}" for problem in _check_card(model, deadlines))
    problems.extend(_check_upgrades(models))
    problems.extend(_check_unique("model id", [model.id for model in models]))
    problems.extend(_check_unique("model code", [model.code for model in models]))
    problems.extend(_check_unique("format id", [fmt.id for fmt in formats]))
    problems.extend(_check_prices(models, prices))
    by_id = {model.id: model for model in models}
    followups = _load_list(root / "followups.toml", "followups", FollowUpSpec, problems)
    problems.extend(check_followups(followups, by_id, set(format_order)))
    recipes = _load_list(root / "recipes.toml", "recipes", RecipeSpec, problems)
    for recipe in recipes:
        found = check_recipe(recipe, by_id)
        problems.extend(found or _check_recipe_examples(recipe, by_id, prices))
    if problems:
        raise CatalogDataError(problems)

    models.sort(key=lambda m: (format_order[m.format], m.position, m.id))
    return Catalog(models, formats, prices, followups=followups, recipes=recipes)


def _load_formats(path: DataDir, problems: list[str]) -> list[FormatSpec]:
    data = _read_toml(path, problems)
    formats = []
    for index, raw in enumerate(data.get("formats", [])):
        try:
            formats.append(FormatSpec.model_validate(raw))
        except ValidationError as error:
            problems.append(f"formats.toml, format #{index + 1}: {_short(error)}")
    if not formats and data:
        problems.append("formats.toml: no [[formats]] defined")
    return formats


def _load_models(directory: DataDir, problems: list[str]) -> list[ModelSpec]:
    models = []
    files = sorted((f for f in directory.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    for file in files:
        try:
            models.append(ModelSpec.model_validate(json.loads(file.read_text(encoding="utf-8"))))
        except (ValueError, ValidationError) as error:  # JSONDecodeError is a ValueError
            detail = _short(error) if isinstance(error, ValidationError) else str(error)
            problems.append(f"models/{file.name}: {detail}")
    if not files:
        problems.append("models/: no model files")
    return models


def _load_list(path: DataDir, key: str, spec: type[Any], problems: list[str]) -> list[Any]:
    """The ``[[key]]`` tables of an optional TOML file, each validated as ``spec``."""
    if not path.is_file():
        return []
    items = []
    for index, raw in enumerate(_read_toml(path, problems).get(key, [])):
        try:
            items.append(spec.model_validate(raw))
        except ValidationError as error:
            problems.append(f"{path.name}, #{index + 1}: {_short(error)}")
    return items


def _check_recipe_examples(
    recipe: RecipeSpec, models: dict[str, ModelSpec], prices: dict[str, PriceRule]
) -> list[str]:
    """Each step with the recipe's example answers validates and has a price."""
    problems = []
    for index, step in enumerate(recipe.steps):
        model, rule = models[step.model], prices.get(step.model)
        if rule is None:
            continue  # the missing price is reported on its own
        inputs = recipe.step_inputs(index, step.example)
        if step.from_previous:
            inputs[step.from_previous] = previous_placeholder(model, step.from_previous)
        try:
            compute_price(rule, model, validate_inputs(model, inputs))
        except ValidationFailed as failed:
            problems += [f"recipes.toml, {recipe.id}, step {index + 1}: {m}" for m in failed.messages("en")]
    return problems


def _load_prices(path: DataDir, problems: list[str]) -> dict[str, PriceRule]:
    prices = {}
    for model_id, raw in _read_toml(path, problems).get("models", {}).items():
        try:
            prices[model_id] = PriceRule.model_validate(raw)
        except ValidationError as error:
            problems.append(f"prices.toml, {model_id}: {_short(error)}")
    return prices


def _check_model(model: ModelSpec) -> list[str]:
    problems = []
    for name, field in model.inputs.items():
        if field.default is not None:
            problems += [
                f"input {name!r} default: {e.message('en')}" for e in check_value(field, field.default)
            ]
    for name, field in model.inputs.items():
        if field.media and field.accept is None:
            problems.append(f"input {name!r}: a media input needs `accept` (kinds, mime_types, max_mb)")
        if not field.media and field.accept is not None:
            problems.append(f"input {name!r}: `accept` on an input that is not in media_inputs")
    for index, rule in enumerate(model.rules):
        # `when` compares with validated values, so it must be written exactly as KIE's type ("10", not 10).
        for name, value in rule.when.items():
            if value is not None and check_value(model.inputs[name], value):
                problems.append(f"rule #{index + 1}: when {name}={value!r} is not a valid {name}")
        for name in [*rule.require, *rule.constrain]:
            if model.inputs[name].system:
                problems.append(f"rule #{index + 1}: {name!r} is a system input")
    try:
        validate_inputs(model, model.example)
    except ValidationFailed as failed:
        problems += [f"example: {message}" for message in failed.messages("en")]
    return problems


def _check_card(model: ModelSpec, deadlines: dict[str, int]) -> list[str]:
    """The model card needs a release month ("newest first") and a "good for" line; a typical time, when
    given, must fit the format's deadline."""
    problems = [f"`{key}` is missing" for key in ("released", "good_for") if getattr(model, key) is None]
    deadline = deadlines.get(model.format)
    if model.usual_seconds is not None and deadline is not None and model.usual_seconds > deadline:
        problems.append(f"usual_seconds {model.usual_seconds} exceeds the format's deadline {deadline}")
    return problems


def _check_upgrades(models: list[ModelSpec]) -> list[str]:
    """`upgrade_of` names existing models, and an upgrade has the input that carries their task id."""
    ids = {model.id for model in models}
    problems = []
    for model in models:
        if unknown := [parent for parent in model.upgrade_of if parent not in ids]:
            problems.append(f"models/{model.id}: upgrade_of names unknown model(s): {', '.join(unknown)}")
        if model.upgrade_of and not any(field.task_id for field in model.inputs.values()):
            problems.append(f"models/{model.id}: upgrade_of without an input marked task_id")
    return problems


def _check_prices(models: list[ModelSpec], prices: dict[str, PriceRule]) -> list[str]:
    problems = []
    ids = {model.id for model in models}
    if missing := [model.id for model in models if model.id not in prices]:
        problems.append(f"prices.toml: no price entry for model(s): {', '.join(missing)}")
    if unknown := sorted(set(prices) - ids):
        problems.append(f"prices.toml: entries for unknown model(s): {', '.join(unknown)}")
    for model in models:
        rule = prices.get(model.id)
        if rule is None:
            continue
        rule_problems = check_price_rule(rule, model)
        problems += [f"prices.toml, {model.id}: {problem}" for problem in rule_problems]
        if not rule_problems:
            try:
                compute_price(rule, model, validate_inputs(model, model.example))
            except (ValueError, ValidationFailed) as error:
                problems.append(f"prices.toml, {model.id}: cannot price the example: {error}")
    return problems


def _check_unique(what: str, values: list[str]) -> list[str]:
    return [f"duplicate {what}: {value}" for value, n in sorted(Counter(values).items()) if n > 1]


def _read_toml(path: DataDir, problems: list[str]) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        problems.append(f"{path.name}: {error}")
        return {}


def _short(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'file'}: {e['msg']}" for e in error.errors()
    )
