"""Results out: several files per task (Suno's two takes, 4o variants, Market num_images), in order, each
with its media type from the family, the model's output, or the URL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kie.adapters import adapter_for
from kie.media import media_from_output, media_from_url
from kie.models import MediaType, ResultFile, TaskState
from tests.kie.support import FLUX, GPT4O, NANO_BANANA, SUNO, SUNO_COVER, Model, load


def status(body: Any, model: Model):
    return adapter_for(model.api).parse_status(body, 200, model)


def callback(body: Any, model: Model):
    return adapter_for(model.api).parse_callback(body, model)


URLS = [f"https://cdn.example/r/{n}.png" for n in range(4)]


# --- Market -------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_string", [True, False], ids=["resultJson-string", "resultJson-object"])
def test_market_several_images_in_order(as_string: bool) -> None:
    body = load("market_recordInfo_success_openapi.json")
    result = {"resultUrls": URLS}
    body["data"]["resultJson"] = json.dumps(result) if as_string else result
    assert status(body, NANO_BANANA).files == [ResultFile(url=u, media_type=MediaType.IMAGE) for u in URLS]


def test_market_callback_with_several_images() -> None:
    body = load("market_callback_success.json")
    body["data"]["resultJson"] = json.dumps({"resultUrls": URLS[:2]})
    info = callback(body, NANO_BANANA)
    assert [f.url for f in info.status.files] == URLS[:2]


# --- 4o -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["resultUrls", "result_urls"])
def test_4o_variants(key: str) -> None:
    body = load("gpt4o_record_info_success_openapi.json")
    body["data"]["response"] = {key: URLS}
    assert [f.url for f in status(body, GPT4O).files] == URLS
    cb = load("gpt4o_callback_success.json")
    cb["data"]["info"] = {key: URLS[:2]}
    assert [(f.url, f.media_type) for f in callback(cb, GPT4O).status.files] == [
        (u, MediaType.IMAGE) for u in URLS[:2]
    ]


def test_flux_is_one_image_even_with_an_extensionless_url() -> None:
    body = load("flux_kontext_record_info_success.json")
    body["data"]["response"]["resultImageUrl"] = "https://cdn.example/r/abc"
    assert status(body, FLUX).files == [
        ResultFile(url="https://cdn.example/r/abc", media_type=MediaType.IMAGE)
    ]


# --- Suno ---------------------------------------------------------------------------------------

TRACKS = [
    {
        "id": n,
        "audioUrl": f"https://cdn.example/{n}.mp3",
        "imageUrl": f"https://cdn.example/{n}.jpeg",
        "title": t,
    }
    for n, t in (("a", "Take 1"), ("b", "Take 2"))
]


def suno_record(status_word: str, tracks: list[dict[str, Any]]) -> dict[str, Any]:
    body = load("suno_record_info_success.json")
    body["data"].update(status=status_word, response={"taskId": body["data"]["taskId"], "sunoData": tracks})
    return body


@pytest.mark.parametrize("model", [SUNO, SUNO_COVER], ids=["generate", "upload-cover"])
def test_suno_two_tracks_are_two_audio_files(model: Model) -> None:
    result = status(suno_record("SUCCESS", TRACKS), model)
    # The cover image next to each track is not a result: only the audio is delivered.
    assert result.files == [
        ResultFile(url="https://cdn.example/a.mp3", media_type=MediaType.AUDIO, title="Take 1"),
        ResultFile(url="https://cdn.example/b.mp3", media_type=MediaType.AUDIO, title="Take 2"),
    ]


def test_suno_first_stage_with_one_track_ready_is_not_a_result() -> None:
    first = [TRACKS[0], {**TRACKS[1], "audioUrl": ""}]
    result = status(suno_record("FIRST_SUCCESS", first), SUNO)
    assert (result.state, result.files) == (TaskState.IN_PROGRESS, [])


def test_suno_success_with_a_track_still_rendering_delivers_the_ready_one() -> None:
    result = status(suno_record("SUCCESS", [TRACKS[0], {**TRACKS[1], "audioUrl": None}]), SUNO)
    assert [f.url for f in result.files] == ["https://cdn.example/a.mp3"]


def test_suno_staged_callbacks_end_in_two_tracks() -> None:
    def body(stage: str, tracks: Any, code: int = 200) -> dict[str, Any]:
        return {"code": code, "msg": "m", "data": {"callbackType": stage, "task_id": "s1", "data": tracks}}

    snake = [{"id": t["id"], "audio_url": t["audioUrl"], "title": t["title"]} for t in TRACKS]
    assert callback(body("text", []), SUNO).status.state is TaskState.IN_PROGRESS
    assert callback(body("first", [snake[0], {**snake[1], "audio_url": ""}]), SUNO).status.files == []
    complete = callback(body("complete", snake), SUNO).status
    assert (complete.state, [f.title for f in complete.files]) == (TaskState.SUCCEEDED, ["Take 1", "Take 2"])
    error = callback(body("error", None, code=531), SUNO).status
    assert (error.state, error.fail_code) == (TaskState.FAILED, "531")


# --- media types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "media"),
    [
        ("https://x/a.PNG", MediaType.IMAGE),
        ("https://x/a.jpeg?sig=1&exp=2", MediaType.IMAGE),
        ("https://x/v.mp4#t=1", MediaType.VIDEO),
        ("https://x/v.MOV", MediaType.VIDEO),
        ("https://x/s.mp3", MediaType.AUDIO),
        ("https://x/s.wav?x=.png", MediaType.AUDIO),  # the query never decides
        ("https://x/blob", MediaType.UNKNOWN),
        ("https://x/dir.png/file", MediaType.UNKNOWN),
        ("http://[::1", MediaType.UNKNOWN),  # not even a URL
    ],
)
def test_media_from_url(url: str, media: MediaType) -> None:
    assert media_from_url(url) is media


def test_media_from_output() -> None:
    assert media_from_output("Video ") is MediaType.VIDEO
    assert media_from_output("text") is None and media_from_output(None) is None
    assert media_from_output("unknown") is None
