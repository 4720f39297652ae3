"""Prices: each kind of rule with exact numbers, starting prices, the model-card text, determinism."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from catalog import Catalog, Price, PriceRule, load_catalog
from catalog.messages import credits_text
from catalog.validation import validate_inputs


def credits(catalog: Catalog, model_id: str, inputs: dict[str, Any]) -> int:
    return catalog.price(model_id, catalog.validate(model_id, inputs)).credits


def test_flat(catalog: Catalog) -> None:
    price = catalog.price("google/nano-banana", catalog.validate("google/nano-banana", {"prompt": "a cat"}))
    assert price == Price(credits=4, free=False, free_daily_allowance=None, rule="flat: 4")


@pytest.mark.parametrize(("resolution", "expected"), [("1K", 18), ("2K", 18), ("4K", 24), (None, 18)])
def test_by_option(catalog: Catalog, resolution: str | None, expected: int) -> None:
    inputs = {"prompt": "a cat", "resolution": resolution}
    assert credits(catalog, "nano-banana-pro", inputs) == expected


def test_by_option_names_the_choice(catalog: Catalog) -> None:
    inputs = catalog.validate("nano-banana-pro", {"prompt": "a cat", "resolution": "4K"})
    assert catalog.price("nano-banana-pro", inputs).rule == "resolution=4K: 24"


@pytest.mark.parametrize(
    ("duration", "sound", "expected"),
    [(5, False, 55), ("5", "yes", 110), (10, "false", 110), ("10", True, 220)],
)
def test_by_duration_value_and_sound(catalog: Catalog, duration: Any, sound: Any, expected: int) -> None:
    inputs = {"prompt": "a cat", "duration": duration, "sound": sound}
    assert credits(catalog, "kling-2.6/text-to-video", inputs) == expected


@pytest.mark.parametrize(
    ("model_id", "inputs", "expected"),
    [
        ("kling-3.0/video", {"mode": "pro", "sound": False, "duration": "10"}, 18 * 10),
        ("kling-3.0/video", {"mode": "4K", "sound": True, "duration": 15}, 54 * 15),
        ("bytedance/seedance-2", {"resolution": "1080p", "duration": 15}, 45 * 15),  # audio on by default
        ("bytedance/seedance-2", {"resolution": "480p", "generate_audio": False, "duration": 4}, 8 * 4),
        ("wan/2-6-text-to-video", {}, 21 * 5),  # defaults: 1080p, "5"
    ],
)
def test_per_second(catalog: Catalog, model_id: str, inputs: dict[str, Any], expected: int) -> None:
    assert credits(catalog, model_id, {"prompt": "a cat at dawn", **inputs}) == expected


def test_per_second_explains_itself(catalog: Catalog) -> None:
    inputs = catalog.validate("kling-3.0/video", {"prompt": "a cat", "mode": "pro", "duration": "10"})
    assert catalog.price("kling-3.0/video", inputs).rule == "mode=pro, sound=false: 18 × duration 10 = 180"


@pytest.mark.parametrize(("length", "expected"), [(1, 6), (999, 6), (1000, 6), (1001, 12), (5000, 30)])
def test_by_text_length_per_started_1000_characters(catalog: Catalog, length: int, expected: int) -> None:
    assert credits(catalog, "elevenlabs/text-to-speech-turbo-2-5", {"text": "я" * length}) == expected


def test_dialogue_is_priced_by_all_its_lines(catalog: Catalog) -> None:
    lines = [{"text": "a" * 600, "voice": "EkK5I93UQWFDigLMpZcX"}, {"text": "b" * 401, "voice": "x"}]
    assert credits(catalog, "elevenlabs/text-to-dialogue-v3", {"dialogue": lines}) == 14 * 2


@pytest.mark.parametrize(
    ("model_id", "inputs", "expected"),
    [
        ("gpt4o-image", {"size": "1:1", "prompt": "a cat"}, 6),  # not given: one image
        ("gpt4o-image", {"size": "1:1", "prompt": "a cat", "nVariants": 4}, 24),
        ("qwen/image-edit", {"prompt": "fix", "image_url": "AgAC", "num_images": 3}, 18),
    ],
)
def test_count_multiplier(catalog: Catalog, model_id: str, inputs: dict[str, Any], expected: int) -> None:
    assert credits(catalog, model_id, inputs) == expected


def test_free_with_daily_allowance(catalog: Catalog) -> None:
    price = catalog.price("z-image", catalog.validate("z-image", {"prompt": "a cat"}))
    assert price == Price(credits=0, free=True, free_daily_allowance=5, rule="free, 5 per day")
    assert catalog.price_rule("recraft/remove-background").free_daily_allowance == 3
    free = [m for m in catalog.models if catalog.price_rule(m).free]
    assert free == ["z-image", "recraft/remove-background"]


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("google/nano-banana", 4),
        ("nano-banana-pro", 18),
        ("kling-2.6/text-to-video", 55),
        ("kling-3.0/video", 14 * 3),  # std, no sound, 3 s
        ("bytedance/seedance-2", 8 * 4),  # 480p, no audio, 4 s
        ("veo3.1", 30),
        ("gpt4o-image", 6),
        ("elevenlabs/text-to-speech-turbo-2-5", 6),
        ("z-image", 0),
    ],
)
def test_starting_price(catalog: Catalog, model_id: str, expected: int) -> None:
    assert catalog.starting_price(model_id) == expected


def test_every_price_is_a_positive_integer(catalog: Catalog) -> None:
    for model_id, model in catalog.models.items():
        rule = catalog.price_rule(model_id)
        assert all(isinstance(v, int) and v >= 1 for v in rule.options.values())
        assert rule.free or (rule.credits or min(rule.options.values())) >= 1
        price = catalog.price(model_id, validate_inputs(model, model.example))  # disabled models too
        assert type(price.credits) is int


def test_describe_price_rules(catalog: Catalog) -> None:
    assert catalog.describe_price_rules("nano-banana-pro", "en") == "1K/2K — 18, 4K — 24 credits"
    assert catalog.describe_price_rules("nano-banana-pro", "ru") == "1K/2K — 18, 4K — 24 кредита"
    assert catalog.describe_price_rules("google/nano-banana", "ru") == "4 кредита"
    assert catalog.describe_price_rules("z-image", "en") == "Free, up to 5 a day"
    assert catalog.describe_price_rules("z-image", "ru") == "Бесплатно, до 5 в день"
    assert (
        catalog.describe_price_rules("elevenlabs/text-to-speech-turbo-2-5", "en")
        == "6 credits per started 1000 characters"
    )
    assert (
        catalog.describe_price_rules("wan/2-6-text-to-video", "ru")
        == "720p — 14, 1080p — 21 кредит за секунду"
    )
    assert catalog.describe_price_rules("gpt4o-image", "en") == "6 credits × Number of variants"
    assert catalog.describe_price_rules("kling-2.6/text-to-video", "en").splitlines() == [
        "Duration, s: 5, Sound: no — 55 credits",
        "Duration, s: 5, Sound: yes — 110 credits",
        "Duration, s: 10, Sound: no — 110 credits",
        "Duration, s: 10, Sound: yes — 220 credits",
    ]


def test_prices_are_deterministic(catalog: Catalog) -> None:
    fresh = load_catalog()
    assert list(fresh.models) == list(catalog.models)
    for model_id, model in catalog.models.items():
        first = catalog.price(model_id, validate_inputs(model, model.example))
        reordered = dict(reversed(list(model.example.items())))
        second = fresh.price(model_id, validate_inputs(fresh.get(model_id), reordered))
        assert first == second


@pytest.mark.parametrize(
    "raw",
    [
        {"credits": 0},  # zero without a free allowance
        {"credits": 5, "by": ["resolution"], "options": {"1K": 5}},  # both flat and by option
        {"by": ["resolution"]},  # by without options
        {"options": {"1K": 0}, "by": ["resolution"]},  # option price below 1
        {"credits": 5, "per": "duration"},  # per without its unit name
        {"credits": 0, "free_daily_allowance": 5, "count": "n"},  # free with multipliers
        {"credits": 5, "surprise": 1},  # unknown key
    ],
)
def test_malformed_price_rules_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PriceRule.model_validate(raw)


@pytest.mark.parametrize(
    ("n", "word"),
    [(1, "кредит"), (2, "кредита"), (5, "кредитов"), (11, "кредитов"), (21, "кредит"), (24, "кредита")],
)
def test_russian_plural_from_the_translation_catalog(n: int, word: str) -> None:
    assert credits_text(n, "ru") == f"{n} {word}"
