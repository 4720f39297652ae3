"""Validation: every rule, coercion to KIE's types, defaults, model rules, and the messages users see."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from catalog import Catalog, FieldError, ModelSpec, ValidationFailed
from catalog.validation import validate_inputs


def errors_of(catalog: Catalog, model_id: str, inputs: dict[str, Any]) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as failed:
        catalog.validate(model_id, inputs)
    assert failed.value.model_id == model_id
    return failed.value.errors


def summary(error: FieldError) -> tuple[str, str, dict[str, Any], Any]:
    return error.field, error.rule, error.limits, error.actual


def only_error(catalog: Catalog, model_id: str, inputs: dict[str, Any]) -> FieldError:
    errors = errors_of(catalog, model_id, inputs)
    assert len(errors) == 1, errors
    return errors[0]


# A small model for limits no catalogued model can trip (min_items > 1 on a media list).
TOY = ModelSpec.model_validate(
    {
        "id": "toy",
        "code": "toy",
        "title": {"ru": "Игрушка", "en": "Toy"},
        "description": {"ru": "Тест", "en": "Test"},
        "api": "market",
        "format": "image-to-image",
        "output": "image",
        "endpoint": "/api/v1/jobs/createTask",
        "status_endpoint": "/api/v1/jobs/recordInfo",
        "inputs": {
            "photos": {
                "type": "array",
                "items": "uri",
                "min_items": 2,
                "max_items": 3,
                "title": {"ru": "Фото", "en": "Photos"},
            }
        },
        "media_inputs": ["photos"],
        "example": {"photos": ["a", "b"]},
    }
)


# ---------------------------------------------------------------- one failing case per rule


def test_required(catalog: Catalog) -> None:
    error = only_error(catalog, "google/nano-banana", {})
    assert (error.field, error.rule, error.limits) == ("prompt", "required", {})
    assert error.message("en") == "Required: Prompt."
    assert error.message("ru") == "Заполните поле «Описание»."
    # Blank counts as missing.
    assert only_error(catalog, "google/nano-banana", {"prompt": "   "}).rule == "required"


def test_type(catalog: Catalog) -> None:
    error = only_error(catalog, "bytedance/seedance-2", {"prompt": "a dog", "duration": "five"})
    assert (error.field, error.rule, error.limits) == ("duration", "type", {"expected": "integer"})
    assert error.message("en") == "Duration, s: expected a whole number."
    assert error.message("ru") == "Поле «Длительность, с»: ожидается целое число."


def test_enum(catalog: Catalog) -> None:
    error = only_error(catalog, "nano-banana-pro", {"prompt": "a cat", "resolution": "8K"})
    assert (error.field, error.rule, error.limits) == ("resolution", "enum", {"allowed": ["1K", "2K", "4K"]})
    assert error.message("en") == "Resolution: choose one of 1K, 2K, 4K."
    assert error.message("ru") == "Поле «Разрешение»: выберите одно из значений: 1K, 2K, 4K."


def test_min(catalog: Catalog) -> None:
    error = only_error(catalog, "bytedance/seedance-2", {"prompt": "a dog", "duration": 3})
    assert summary(error) == ("duration", "min", {"min": 4}, 3)
    assert error.message("en") == "Duration, s: must be at least 4 (you sent 3)."
    assert error.message("ru") == "Поле «Длительность, с»: значение должно быть не меньше 4 (у вас 3)."


def test_max(catalog: Catalog) -> None:
    error = only_error(catalog, "elevenlabs/text-to-speech-turbo-2-5", {"text": "Hi", "speed": "1.5"})
    assert summary(error) == ("speed", "max", {"max": 1.2}, 1.5)
    assert error.message("en") == "Speech speed: must be at most 1.2 (you sent 1.5)."
    assert error.message("ru") == "Поле «Скорость речи»: значение должно быть не больше 1,2 (у вас 1,5)."


def test_min_length(catalog: Catalog) -> None:
    error = only_error(catalog, "flux-2/pro-text-to-image", {"prompt": "ok"})
    assert summary(error) == ("prompt", "min_length", {"min": 3}, 2)
    assert error.message("en") == "Prompt is too short: at least 3 characters (you sent 2)."
    assert error.message("ru") == "Поле «Описание» слишком короткое: не менее 3 символов (у вас 2)."


def test_max_length_counts_characters(catalog: Catalog) -> None:
    prompt = "ж" * 5210  # characters, not UTF-8 bytes
    error = only_error(catalog, "google/nano-banana", {"prompt": prompt})
    assert summary(error) == ("prompt", "max_length", {"max": 5000}, 5210)
    assert error.message("en") == "Prompt is too long: at most 5000 characters (you sent 5210)."
    assert error.message("ru") == "Поле «Описание» слишком длинное: не более 5000 символов (у вас 5210)."
    catalog.validate("google/nano-banana", {"prompt": "ж" * 5000})


def test_max_length_of_dialogue_counts_all_lines(catalog: Catalog) -> None:
    lines = [{"text": "a" * 3000, "voice": "EkK5I93UQWFDigLMpZcX"}, {"text": "b" * 2001, "voice": "x"}]
    error = only_error(catalog, "elevenlabs/text-to-dialogue-v3", {"dialogue": lines})
    assert (error.rule, error.limits, error.actual) == ("max_length", {"max": 5000}, 5001)


def test_min_items() -> None:
    with pytest.raises(ValidationFailed) as failed:
        validate_inputs(TOY, {"photos": ["only-one"]})
    (error,) = failed.value.errors
    assert summary(error) == ("photos", "min_items", {"min": 2}, 1)
    assert error.message("en") == "Photos: send at least 2 files (you sent 1)."
    assert error.message("ru") == "Поле «Фото»: нужно не менее 2 файлов (у вас 1)."


def test_max_items(catalog: Catalog) -> None:
    photos = [f"AgACAgIAAx{i}" for i in range(9)]
    error = only_error(catalog, "nano-banana-pro", {"prompt": "a cat", "image_input": photos})
    assert summary(error) == ("image_input", "max_items", {"max": 8}, 9)
    assert error.media
    assert error.message("en") == "Reference images: at most 8 files (you sent 9)."
    assert error.message("ru") == "Поле «Фото-референсы»: можно не более 8 файлов (у вас 9)."


def test_max_items_of_one(catalog: Catalog) -> None:
    inputs = {"prompt": "a cat", "image_urls": ["f1", "f2"]}
    error = only_error(catalog, "kling-2.6/image-to-video", inputs)
    assert summary(error) == ("image_urls", "max_items", {"max": 1}, 2)
    assert error.message("en") == "Start image: at most 1 file (you sent 2)."
    assert error.message("ru") == "Поле «Стартовый кадр»: можно не более 1 файла (у вас 2)."


def test_unknown_field(catalog: Catalog) -> None:
    error = only_error(catalog, "google/nano-banana", {"prompt": "a cat", "negative_prompt": "dogs"})
    assert (error.field, error.rule) == ("negative_prompt", "unknown_field")
    assert error.limits == {"allowed": ["prompt", "output_format", "image_size"]}
    assert error.message("en") == "This model has no option “negative_prompt”."
    assert error.message("ru") == "У этой модели нет параметра «negative_prompt»."


def test_system_field(catalog: Catalog) -> None:
    inputs = {"prompt": "lofi beat", "callBackUrl": "https://evil.example/cb"}
    error = only_error(catalog, "suno/generate-music", inputs)
    assert (error.field, error.rule, error.limits) == ("callBackUrl", "system_field", {})
    assert error.message("en") == "Callback URL is set automatically and cannot be changed."
    assert error.message("ru") == "Поле «Адрес уведомления» заполняется автоматически, его нельзя задать."
    # System values with a product default are not the user's to change either.
    assert only_error(catalog, "z-image", {"prompt": "x", "nsfw_checker": False}).rule == "system_field"


def test_all_errors_are_collected(catalog: Catalog) -> None:
    inputs = {"prompt": "x" * 5001, "output_format": "gif", "image_size": 3, "seed": 1}
    errors = errors_of(catalog, "google/nano-banana", inputs)
    assert sorted((e.field, e.rule) for e in errors) == [
        ("image_size", "enum"),  # 3 reads as "3", which is not a ratio
        ("output_format", "enum"),
        ("prompt", "max_length"),
        ("seed", "unknown_field"),
    ]


# ---------------------------------------------------------------- coercion to KIE's types


@pytest.mark.parametrize(
    ("model_id", "inputs", "field", "expected"),
    [
        ("kling-2.6/text-to-video", {"duration": 5}, "duration", "5"),  # KIE wants a string
        ("kling-2.6/text-to-video", {"duration": 10.0}, "duration", "10"),
        ("kling-2.6/text-to-video", {"duration": "10"}, "duration", "10"),
        ("kling-2.6/text-to-video", {"sound": "true"}, "sound", True),
        ("kling-2.6/text-to-video", {"sound": "False"}, "sound", False),
        ("kling-2.6/text-to-video", {"sound": "yes"}, "sound", True),
        ("kling-2.6/text-to-video", {"sound": "no"}, "sound", False),
        ("kling-2.6/text-to-video", {"sound": 1}, "sound", True),
        ("runway", {"duration": "5"}, "duration", 5),  # Runway wants a number
        ("bytedance/seedance-2", {"duration": "7"}, "duration", 7),
        ("bytedance/seedance-2", {"duration": 7.0}, "duration", 7),
        ("elevenlabs/text-to-speech-turbo-2-5", {"speed": "1.1"}, "speed", 1.1),
        ("elevenlabs/text-to-speech-turbo-2-5", {"speed": "0,9"}, "speed", 0.9),
        ("gpt4o-image", {"nVariants": "2"}, "nVariants", 2),
        ("kling-2.6/image-to-video", {"image_urls": "AgACAgIAAxkB"}, "image_urls", ["AgACAgIAAxkB"]),
    ],
)
def test_coercion(catalog: Catalog, model_id: str, inputs: dict[str, Any], field: str, expected: Any) -> None:
    base = {name: value for name, value in catalog.get(model_id).example.items() if name != field}
    validated = catalog.validate(model_id, {**base, **inputs})
    assert validated[field] == expected
    assert type(validated[field]) is type(expected)


@pytest.mark.parametrize(
    ("model_id", "field", "value"),
    [
        ("kling-2.6/text-to-video", "duration", True),  # True is not "1"
        ("kling-2.6/text-to-video", "duration", 5.5),
        ("kling-2.6/text-to-video", "sound", "maybe"),
        ("kling-2.6/text-to-video", "sound", 2),
        ("bytedance/seedance-2", "duration", 5.5),
        ("elevenlabs/text-to-speech-turbo-2-5", "speed", "fast"),
        ("elevenlabs/text-to-speech-turbo-2-5", "speed", float("nan")),
        ("kling-2.6/image-to-video", "image_urls", [1, 2]),
        ("elevenlabs/text-to-dialogue-v3", "dialogue", ["just text"]),
    ],
)
def test_coercion_refuses(catalog: Catalog, model_id: str, field: str, value: Any) -> None:
    base = {name: v for name, v in catalog.get(model_id).example.items() if name != field}
    errors = errors_of(catalog, model_id, {**base, field: value})
    assert [(e.field, e.rule) for e in errors] == [(field, "type")]


# ---------------------------------------------------------------- defaults and normalisation


def test_defaults_fill_optional_and_system_inputs(catalog: Catalog) -> None:
    assert catalog.validate("google/nano-banana", {"prompt": "a cat"}) == {
        "prompt": "a cat",
        "output_format": "png",
        "image_size": "1:1",
    }
    validated = catalog.validate("z-image", {"prompt": "a cat"})
    assert validated == {"prompt": "a cat", "aspect_ratio": "1:1", "nsfw_checker": True}
    sora = catalog.validate("sora-2-text-to-video", {"prompt": "a cat"})
    assert sora["upload_method"] == "s3"
    assert "callBackUrl" not in catalog.validate("suno/generate-music", {"prompt": "lofi"})


def test_blank_optional_inputs_are_dropped(catalog: Catalog) -> None:
    validated = catalog.validate(
        "nano-banana-2", {"prompt": "a cat", "image_input": [], "aspect_ratio": None}
    )
    assert "image_input" not in validated
    assert validated["aspect_ratio"] == "auto"  # the default, since nothing was chosen


def test_inputs_are_not_mutated_and_output_is_a_new_dict(catalog: Catalog) -> None:
    inputs = {"prompt": "a cat", "image_urls": ["f1"], "duration": 5, "sound": "no"}
    before = json.dumps(inputs)
    validated = catalog.validate("kling-2.6/image-to-video", inputs)
    assert json.dumps(inputs) == before
    validated["image_urls"].append("f2")
    assert inputs["image_urls"] == ["f1"]


def test_output_keeps_documentation_order(catalog: Catalog) -> None:
    validated = catalog.validate("kling-2.6/text-to-video", {"duration": "10", "prompt": "a cat"})
    assert list(validated) == ["prompt", "sound", "aspect_ratio", "duration"]


# ---------------------------------------------------------------- model rules


def test_suno_custom_mode_requires_style_and_title(catalog: Catalog) -> None:
    errors = errors_of(catalog, "suno/generate-music", {"prompt": "lofi", "customMode": True})
    assert [(e.field, e.rule, e.limits) for e in errors] == [
        ("style", "required", {"when": {"customMode": True}}),
        ("title", "required", {"when": {"customMode": True}}),
    ]
    assert errors[0].message("en") == "Required in custom mode: Music style."
    assert errors[0].message("ru") == "Поле «Стиль музыки» обязательно в расширенном режиме."
    catalog.validate(
        "suno/generate-music", {"prompt": "lofi", "customMode": True, "style": "x", "title": "y"}
    )


def test_suno_simple_mode_limits_the_prompt(catalog: Catalog) -> None:
    error = only_error(catalog, "suno/generate-music", {"prompt": "x" * 501})
    assert (error.rule, error.limits) == ("max_length", {"max": 500, "when": {"customMode": False}})
    assert (
        error.message("en")
        == "Idea or lyrics is too long in simple mode: at most 500 characters (you sent 501)."
    )
    catalog.validate(
        "suno/generate-music", {"prompt": "x" * 501, "customMode": True, "style": "s", "title": "t"}
    )


def test_suno_cover_needs_no_prompt_in_custom_instrumental_mode(catalog: Catalog) -> None:
    base = {"uploadUrl": "AwACAgIAAxkB", "style": "jazz", "title": "Cover"}
    catalog.validate("suno/upload-cover", {**base, "customMode": True, "instrumental": True})
    error = only_error(catalog, "suno/upload-cover", {**base, "customMode": True})
    assert (error.field, error.rule) == ("prompt", "required")


def test_runway_ten_seconds_is_720p_only(catalog: Catalog) -> None:
    error = only_error(catalog, "runway", {"prompt": "a cat", "duration": 10, "quality": "1080p"})
    assert (error.field, error.rule, error.limits) == (
        "quality",
        "enum",
        {"allowed": ["720p"], "when": {"duration": 10}},
    )
    assert error.message("en") == "Quality for a 10-second video: choose one of 720p."
    catalog.validate("runway", {"prompt": "a cat", "duration": 5, "quality": "1080p"})


def test_gpt4o_needs_a_prompt_or_images(catalog: Catalog) -> None:
    error = only_error(catalog, "gpt4o-image", {"size": "1:1"})
    assert (error.field, error.rule, error.limits) == ("prompt", "required", {"when": {"filesUrl": None}})
    catalog.validate("gpt4o-image", {"size": "1:1", "filesUrl": ["AgACAgIAAxkB"]})


def test_kling_multi_shot_requires_shots(catalog: Catalog) -> None:
    error = only_error(catalog, "kling-3.0/video", {"prompt": "a cat", "multi_shots": "true"})
    assert (error.field, error.rule) == ("multi_prompt", "required")
    shots = [{"prompt": "a cat jumps", "duration": 3}, {"prompt": "it lands", "duration": 2}]
    catalog.validate("kling-3.0/video", {"prompt": "a cat", "multi_shots": True, "multi_prompt": shots})


# ---------------------------------------------------------------- messages and serialisation


RULE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("google/nano-banana", {}),  # required
    ("bytedance/seedance-2", {"prompt": "dog", "duration": "x"}),  # type
    ("nano-banana-pro", {"prompt": "a", "resolution": "8K"}),  # enum
    ("bytedance/seedance-2", {"prompt": "dog", "duration": 1}),  # min
    ("bytedance/seedance-2", {"prompt": "dog", "duration": 99}),  # max
    ("flux-2/pro-text-to-image", {"prompt": "a"}),  # min_length
    ("google/nano-banana", {"prompt": "a" * 5001}),  # max_length
    ("nano-banana-pro", {"prompt": "a", "image_input": ["f"] * 9}),  # max_items
    ("google/nano-banana", {"prompt": "a", "x": 1}),  # unknown_field
    ("suno/generate-music", {"prompt": "a", "callBackUrl": "u"}),  # system_field
]


@pytest.mark.parametrize(("model_id", "inputs"), RULE_CASES)
def test_messages_render_in_both_languages(catalog: Catalog, model_id: str, inputs: dict[str, Any]) -> None:
    for error in errors_of(catalog, model_id, inputs):
        en, ru = error.message("en"), error.message("ru")
        assert en.endswith(".") and ru.endswith(".")
        assert re.search("[а-яА-Я]", ru) and not re.search("[а-яА-Я]", en)
        assert error.message("de") == en  # other languages get English
        if error.rule != "unknown_field":
            assert error.title["en"] in en and error.title["ru"] in ru


def test_field_error_round_trips_as_json(catalog: Catalog) -> None:
    error = only_error(catalog, "runway", {"prompt": "a", "duration": 10, "quality": "1080p"})
    restored = FieldError.model_validate_json(error.model_dump_json())
    assert restored == error
    assert restored.message("ru") == error.message("ru")


def test_validation_failed_reads_well(catalog: Catalog) -> None:
    with pytest.raises(ValidationFailed) as failed:
        catalog.validate("google/nano-banana", {})
    assert str(failed.value) == "google/nano-banana: Required: Prompt."
    assert failed.value.messages("ru") == ["Заполните поле «Описание»."]
