"""Model card data for a format-first menu: release month, "good for", typical time, price range."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog import Catalog, CatalogDataError, load_catalog
from catalog.specs import GOOD_FOR_MAX


def edit(data: Path, stem: str, **changes: Any) -> list[str]:
    path = data / "models" / f"{stem}.json"
    model = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            model.pop(key, None)
        else:
            model[key] = value
    path.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CatalogDataError) as failed:
        load_catalog(data)
    return failed.value.problems


def test_every_model_has_card_data(catalog: Catalog) -> None:
    for model in catalog.models.values():
        assert model.released and model.good_for, model.id
        assert all(0 < len(line) <= GOOD_FOR_MAX for line in model.good_for.values()), model.id
        assert 0 < catalog.usual_seconds(model.id) <= catalog.format(model.format).deadline_seconds


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"released": None}, "models/runway: `released` is missing"),
        ({"good_for": None}, "models/runway: `good_for` is missing"),
        ({"usual_seconds": 99999}, "models/runway: usual_seconds 99999 exceeds the format's deadline 3600"),
    ],
)
def test_card_data_is_checked_at_load(data_copy: Path, changes: dict[str, Any], problem: str) -> None:
    assert edit(data_copy, "runway", **changes) == [problem]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"released": "2026-13"}, "released: String should match pattern"),
        ({"released": "May 2026"}, "released: String should match pattern"),
        ({"good_for": {"ru": "коротко", "en": "x" * (GOOD_FOR_MAX + 1)}}, "longer than 70 characters in: en"),
        ({"good_for": {"en": "only English"}}, "missing text for language(s): ru"),
        ({"usual_seconds": 0}, "usual_seconds: Input should be greater than 0"),
    ],
)
def test_malformed_card_data_fails_to_load(data_copy: Path, changes: dict[str, Any], fragment: str) -> None:
    problem = edit(data_copy, "runway", **changes)[0]  # then: a price entry for an unknown model
    assert problem.startswith("models/runway.json: ") and fragment in problem


def test_newest_first_within_a_format(catalog: Catalog) -> None:
    for fmt in catalog.formats:
        newest = catalog.newest(fmt.id)
        assert sorted(m.id for m in newest) == sorted(m.id for m in catalog.by_format(fmt.id))
        months = [m.released for m in newest]
        assert months == sorted(months, reverse=True)
    assert len(catalog.newest("text-to-video", 3)) == 3


def test_shortlist_mixes_the_most_used_and_the_newest(catalog: Catalog) -> None:
    oldest = catalog.newest("text-to-image")[-1]
    shortlist = catalog.shortlist("text-to-image", 4, uses={oldest.id: 50, "google/imagen4": 10})
    assert [m.id for m in shortlist[:2]] == [oldest.id, "google/imagen4"]
    assert (
        shortlist[2:]
        == [m for m in catalog.newest("text-to-image") if m.id not in {oldest.id, "google/imagen4"}][:2]
    )
    assert catalog.shortlist("text-to-image", 4) == catalog.newest("text-to-image", 4)


@pytest.mark.parametrize(
    ("model_id", "low", "high"),
    [
        ("nano-banana-pro", 18, 24),  # by resolution
        ("runway", 12, 30),  # 10 s in 1080p is refused by a rule, so its 60 never applies
        ("z-image", 0, 0),  # free
        ("gpt4o-image", 6, 24),  # × nVariants 1..4
        ("wan/2-6-text-to-video", 14 * 5, 21 * 15),  # per second, 5..15 s
        ("elevenlabs/text-to-speech-turbo-2-5", 6, 6 * 5),  # per started 1000 of up to 5000 characters
    ],
)
def test_price_range(catalog: Catalog, model_id: str, low: int, high: int) -> None:
    assert catalog.price_range(model_id) == (low, high)
    assert catalog.starting_price(model_id) == low
