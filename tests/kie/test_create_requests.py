"""The create requests the adapters build: endpoints, selectors, our callback URL, inputs left untouched."""

from __future__ import annotations

import pytest

from kie.adapters import adapter_for
from kie.callbacks import parse_callback
from tests.kie.support import (
    NANO_BANANA,
    RUNWAY,
    SUNO,
    SUNO_COVER,
    SUNO_INSTRUMENTAL,
    VEO,
    VEO_EXTEND,
    VEO_FAST,
    Model,
    load,
)


def test_market_create_without_callback_url() -> None:
    assert adapter_for("market").create_request(NANO_BANANA, {"prompt": "p"}, "")[2] == {
        "model": "google/nano-banana",
        "input": {"prompt": "p"},
    }


def test_selector_from_catalog_id_only_when_it_is_a_real_selector() -> None:
    veo = adapter_for("veo")
    assert veo.create_request(VEO_FAST, {"prompt": "p"}, "https://cb")[2]["model"] == "veo3_fast"
    assert "model" not in veo.create_request(VEO, {"prompt": "p"}, "https://cb")[2]  # "veo3.1" is a label
    chosen = veo.create_request(VEO_FAST, {"prompt": "p", "model": "veo3"}, "")[2]
    assert chosen["model"] == "veo3"  # the inputs' choice wins
    method, path, body = veo.create_request(VEO_EXTEND, {"taskId": "veo_1", "prompt": "more"}, "https://cb")
    assert (method, path, body) == (
        "POST",
        "/api/v1/veo/extend",
        {"taskId": "veo_1", "prompt": "more", "callBackUrl": "https://cb"},
    )


def test_our_callback_url_wins_and_inputs_are_not_mutated() -> None:
    inputs = {"prompt": "p", "callBackUrl": "https://evil"}
    body = adapter_for("runway").create_request(RUNWAY, inputs, "https://ours")[2]
    assert body == {"prompt": "p", "callBackUrl": "https://ours"}
    assert inputs == {"prompt": "p", "callBackUrl": "https://evil"}


@pytest.mark.parametrize(
    ("model", "path"),
    [
        (SUNO, "/api/v1/generate"),
        (SUNO_COVER, "/api/v1/generate/upload-cover"),
        (SUNO_INSTRUMENTAL, "/api/v1/generate/add-instrumental"),
    ],
)
def test_suno_endpoints_and_required_callback(model: Model, path: str) -> None:
    adapter = adapter_for("suno")
    inputs = {"uploadUrl": "https://u/a.mp3", "model": "V5"}
    assert adapter.create_request(model, inputs, "https://cb") == (
        "POST",
        path,
        {**inputs, "callBackUrl": "https://cb"},
    )
    assert adapter.status_request(model, "s1") == ("GET", "/api/v1/generate/record-info", {"taskId": "s1"})
    with pytest.raises(ValueError, match="callBackUrl"):
        adapter.create_request(model, inputs, "")


def test_unknown_api() -> None:
    with pytest.raises(ValueError, match="no KIE adapter"):
        adapter_for("luma")


def test_parse_callback_dispatches_on_the_model() -> None:
    assert parse_callback(load("veo_callback_fail.json"), VEO).status.fail_code == "400"
