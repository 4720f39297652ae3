"""Loading edited data: mistakes fail at load with a clear message; edits take effect without code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from catalog import CatalogDataError, ValidationFailed, get_catalog, load_catalog


def edit_model(data: Path, stem: str, change: Any) -> None:
    path = data / "models" / f"{stem}.json"
    model = json.loads(path.read_text(encoding="utf-8"))
    change(model)
    path.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")


def remove_price(text: str, model_id: str) -> str:
    # Drop the model's table up to the next blank line.
    return re.sub(rf'\[models\."{re.escape(model_id)}"\]\n.*?\n\n', "", text, count=1, flags=re.S)


def load_problems(data: Path, **kwargs: Any) -> list[str]:
    with pytest.raises(CatalogDataError) as failed:
        load_catalog(data, **kwargs)
    return failed.value.problems


def test_the_copy_loads_unchanged(data_copy: Path) -> None:
    assert len(load_catalog(data_copy).models) == len(get_catalog().models)


def test_missing_price_entry_is_a_clear_load_error(data_copy: Path) -> None:
    prices = data_copy / "prices.toml"
    prices.write_text(
        remove_price(prices.read_text(encoding="utf-8"), "google/nano-banana"), encoding="utf-8"
    )
    assert load_problems(data_copy) == ["prices.toml: no price entry for model(s): google/nano-banana"]


def test_prices_path_overrides_the_price_list(data_copy: Path, tmp_path: Path) -> None:
    text = (data_copy / "prices.toml").read_text(encoding="utf-8")
    other = tmp_path / "new-prices.toml"
    other.write_text(remove_price(text, "runway"), encoding="utf-8")
    assert load_problems(data_copy, prices_path=other) == ["prices.toml: no price entry for model(s): runway"]
    other.write_text(text.replace('"4K" = 24', '"4K" = 30'), encoding="utf-8")
    catalog = load_catalog(data_copy, prices_path=other)
    assert catalog.price("nano-banana-pro", {"prompt": "a", "resolution": "4K"}).credits == 30


def test_incomplete_and_stray_prices_are_load_errors(data_copy: Path) -> None:
    prices = data_copy / "prices.toml"
    text = prices.read_text(encoding="utf-8").replace('"2K" = 18, "4K" = 24 }', '"2K" = 18 }')
    text += '\n[models."midjourney"]\ncredits = 10\n'
    prices.write_text(text, encoding="utf-8")
    assert load_problems(data_copy) == [
        "prices.toml: entries for unknown model(s): midjourney",
        "prices.toml, nano-banana-pro: options missing: 4K",
    ]


def test_price_by_an_input_the_model_lacks(data_copy: Path) -> None:
    prices = data_copy / "prices.toml"
    text = prices.read_text(encoding="utf-8")
    prices.write_text(
        text.replace("credits = 2  # estimate\n", 'credits = 2\ncount = "copies"\n', 1), "utf-8"
    )
    assert load_problems(data_copy) == ["prices.toml, recraft/crisp-upscale: no input 'copies'"]


def test_model_file_mistakes_are_reported_together(data_copy: Path) -> None:
    edit_model(data_copy, "z_image", lambda m: m.update(format="text-to-3d"))
    edit_model(data_copy, "google_nano_banana", lambda m: m["example"].update(image_size="7:1"))
    edit_model(data_copy, "google_imagen4", lambda m: m["inputs"]["aspect_ratio"].update(default="2:1"))
    edit_model(data_copy, "runway", lambda m: m["rules"][0]["when"].update(duration="10"))
    edit_model(data_copy, "topaz_image_upscale", lambda m: m["title"].pop("ru"))
    problems = load_problems(data_copy)
    assert "models/z-image: unknown format 'text-to-3d'" in problems
    assert any(
        p.startswith("models/google/nano-banana: example: Aspect ratio: choose one of") for p in problems
    )
    assert any(
        p.startswith("models/google/imagen4: input 'aspect_ratio' default: Aspect ratio") for p in problems
    )
    assert "models/runway: rule #1: when duration='10' is not a valid duration" in problems
    assert any(p.startswith("models/topaz_image_upscale.json: title") and "ru" in p for p in problems)


def test_duplicate_codes_are_refused(data_copy: Path) -> None:
    edit_model(data_copy, "z_image", lambda m: m.update(code="nano-banana"))
    assert "duplicate model code: nano-banana" in load_problems(data_copy)


def test_disabling_a_model_is_a_data_edit(data_copy: Path) -> None:
    edit_model(data_copy, "runway", lambda m: m.update(enabled=False))
    catalog = load_catalog(data_copy)
    assert "runway" not in [m.id for m in catalog.by_format("text-to-video")]
    with pytest.raises(ValidationFailed) as failed:
        catalog.validate("runway", {"prompt": "a cat"})
    (error,) = failed.value.errors
    assert (error.field, error.rule) == ("", "disabled_model")
    assert error.message("en") == "This model is temporarily unavailable."
    assert error.message("ru") == "Эта модель временно недоступна."
    assert catalog.starting_price("runway") == 12  # still priced: the card may say "back soon"


def test_get_catalog_is_loaded_once() -> None:
    assert get_catalog() is get_catalog()


def test_upgrade_of_must_name_existing_models(data_copy: Path) -> None:
    edit_model(data_copy, "veo3_1_4k", lambda m: m.update(upgrade_of=["veo3.1", "veo4"]))
    assert load_problems(data_copy) == ["models/veo3.1-4k: upgrade_of names unknown model(s): veo4"]


def test_an_upgrade_needs_an_input_carrying_the_task_id(data_copy: Path) -> None:
    edit_model(data_copy, "veo3_1_4k", lambda m: m["inputs"]["taskId"].pop("task_id"))
    assert load_problems(data_copy) == ["models/veo3.1-4k: upgrade_of without an input marked task_id"]
