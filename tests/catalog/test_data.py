"""The packaged data: every model is there, complete, and usable as documented."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from catalog import Catalog, UnknownFormat, UnknownModel, get_catalog
from catalog.loading import default_data_dir

FORMATS = [
    "text-to-image", "image-to-image", "image-upscale", "background-remove", "text-to-video",
    "image-to-video", "video-editing", "text-to-audio", "audio-editing", "audio-to-video",
]  # fmt: skip
SPECIAL_APIS = {"veo", "runway", "suno", "gpt4o_image", "flux_kontext"}
ALL_MODELS = sorted(get_catalog().models)
ENABLED_MODELS = sorted(m.id for m in get_catalog().models.values() if m.enabled)


def test_every_model_file_loads(catalog: Catalog) -> None:
    files = list((Path(str(default_data_dir())) / "models").glob("*.json"))
    assert len(catalog.models) == len(files) >= 46


def test_formats_in_menu_order_with_deadlines(catalog: Catalog) -> None:
    assert [fmt.id for fmt in catalog.formats] == FORMATS
    for fmt in catalog.formats:
        assert fmt.title["ru"] and fmt.title["en"]
        assert 0 < fmt.usual_seconds <= fmt.deadline_seconds
    assert catalog.format("text-to-image").deadline_seconds == 900
    assert catalog.format("text-to-video").deadline_seconds == 3600
    assert catalog.format("text-to-audio").deadline_seconds == 1800


def test_every_format_offers_models(catalog: Catalog) -> None:
    counts = Counter(model.format for model in catalog.models.values() if model.enabled)
    assert set(counts) == set(FORMATS)
    for format_id, count in counts.items():
        assert len(catalog.by_format(format_id)) == count


def test_models_are_ordered_by_menu_then_position(catalog: Catalog) -> None:
    order = [fmt.id for fmt in catalog.formats]
    keys = [(order.index(m.format), m.position) for m in catalog.models.values()]
    assert keys == sorted(keys)
    assert catalog.by_format("text-to-image")[0].id == "google/nano-banana"


def test_lookups(catalog: Catalog) -> None:
    assert catalog.get("veo3.1").api == "veo"
    assert catalog.by_code("nano-banana-pro").id == "nano-banana-pro"
    with pytest.raises(UnknownModel):
        catalog.get("midjourney")
    with pytest.raises(UnknownModel):
        catalog.by_code("nope")
    with pytest.raises(UnknownFormat):
        catalog.format("text-to-3d")
    with pytest.raises(UnknownFormat):
        catalog.by_format("text-to-3d")


@pytest.mark.parametrize("model_id", ALL_MODELS)
def test_model_is_complete(catalog: Catalog, model_id: str) -> None:
    model = catalog.get(model_id)
    for lang in ("ru", "en"):
        assert model.title_for(lang).strip()
        assert 0 < len(model.description_for(lang)) <= 120
    assert re.search("[а-яА-Я]", model.description["ru"])
    assert model.title_for("de") == model.title["en"]  # unknown language falls back to English
    assert model.output in ("image", "video", "audio")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,20}", model.code)
    assert model.endpoint.startswith("/api/v1/") and model.status_endpoint.startswith("/api/v1/")
    for field in model.inputs.values():
        assert field.title["ru"].strip() and field.title["en"].strip()
    assert set(model.media_inputs) <= set(model.user_inputs)
    assert {name for name, field in model.inputs.items() if field.media} == set(model.media_inputs)
    assert catalog.price_rule(model_id) is not None


@pytest.mark.parametrize("model_id", ENABLED_MODELS)  # the loader checks disabled models' examples
def test_example_validates_and_prices(catalog: Catalog, model_id: str) -> None:
    model = catalog.get(model_id)
    validated = catalog.validate(model_id, model.example)
    price = catalog.price(model_id, validated)
    assert price.credits >= catalog.starting_price(model_id) >= 0
    assert price.credits >= 1 or price.free
    # Normalising twice changes nothing (system values are the product's, so they are not sent back in).
    user_part = {name: value for name, value in validated.items() if name in model.user_inputs}
    assert catalog.validate(model_id, user_part) == validated


def test_codes_are_unique(catalog: Catalog) -> None:
    codes = [model.code for model in catalog.models.values()]
    assert len(set(codes)) == len(codes)


# KIE documents no callback for these: the upgrade is read by asking its endpoint again.
NO_CALLBACK = {"veo3.1-1080p"}


def test_callback_urls_are_system_fields(catalog: Catalog) -> None:
    for model in catalog.models.values():
        if model.api in SPECIAL_APIS and model.id not in NO_CALLBACK:
            assert model.inputs["callBackUrl"].system, model.id
        assert "callBackUrl" not in model.user_inputs
    assert "callBackUrl" not in catalog.get("veo3.1-1080p").inputs


def test_required_flag_resolutions(catalog: Catalog) -> None:
    kling = catalog.get("kling-3.0/video")
    assert kling.inputs["prompt"].required and not kling.inputs["multi_prompt"].required
    assert kling.nested_media_inputs == ["kling_elements[].element_input_urls"]
    assert "kling_elements" not in kling.user_inputs
    assert catalog.get("runway").inputs["callBackUrl"].system
    assert not catalog.get("suno/upload-cover").inputs["prompt"].required
    suno = catalog.get("suno/generate-music")
    assert suno.inputs["model"].enum == ["V4", "V4_5", "V4_5PLUS", "V4_5ALL", "V5", "V5_5"]
    assert "model" in suno.user_inputs
    extend = catalog.get("veo3.1-extend")
    assert extend.inputs["taskId"].task_id and extend.inputs["taskId"].type == "string"
    assert extend.media_inputs == []


# model → the input that carries the parent's KIE task id
UPGRADES = {
    "veo3.1-extend": "taskId",
    "veo3.1-1080p": "taskId",
    "veo3.1-4k": "taskId",
    "runway-extend": "taskId",
    "suno/extend": "audioId",
}


def test_upgrades_name_their_parents_and_carry_a_task_id(catalog: Catalog) -> None:
    upgrades = {model.id for model in catalog.models.values() if model.upgrade_of}
    assert upgrades == set(UPGRADES)
    for model_id, field in UPGRADES.items():
        model = catalog.get(model_id)
        assert model.inputs[field].task_id and model.inputs[field].required, model_id
        assert [name for name, spec in model.inputs.items() if spec.task_id] == [field]
        assert model.media_inputs == [] and model.enabled
        for parent in model.upgrade_of:
            assert catalog.get(parent).api == model.api and catalog.get(parent).output == model.output
    assert catalog.get("veo3.1-4k").upgrade_of == ["veo3.1", "veo3.1-extend"]
    assert "runway" in catalog.get("runway-extend").upgrade_of
    assert "suno/generate-music" in catalog.get("suno/extend").upgrade_of
    # The Suno model must be the source's: the adapter copies it, so users are not asked.
    assert "model" not in catalog.get("suno/extend").user_inputs
    assert catalog.get("suno/generate-music").upgrade_of == []


def test_input_views(catalog: Catalog) -> None:
    model = catalog.get("suno/generate-music")
    assert list(model.inputs)[:3] == ["prompt", "style", "title"]  # documentation order
    assert "callBackUrl" in model.system_inputs and "callBackUrl" not in model.user_inputs
    assert set(model.required_inputs) == {"prompt", "customMode", "instrumental", "model"}
    assert set(model.required_inputs) | set(model.optional_inputs) == set(model.user_inputs)


def test_data_is_self_contained() -> None:
    # Nothing in the package may depend on the reference folder outside the repo.
    package = Path(str(default_data_dir())).parent
    for path in package.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".json", ".toml"):
            assert "/work/shared" not in path.read_text(encoding="utf-8"), path
