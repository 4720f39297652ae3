"""prepare_inputs with the real aiogram Bot against the Telegram simulator and the real KieClient against the
KIE simulator: what users send arrives at KIE byte for byte, heartbeats carry progress, retries resume."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.media import MediaActivities
from contracts.models import PrepareInput
from kie.client import KieClient
from simulators.kie import KieSimConfig, KieSimulator
from simulators.telegram import TelegramSimulator
from simulators.telegram.testing import bot_for, make_png, running_simulator

ASSETS = Path(__file__).resolve().parents[2] / "simulators" / "kie" / "assets"
USER = 4242
MB = 1_000_000


@dataclasses.dataclass
class Rig:
    telegram: TelegramSimulator
    kie: KieSimulator
    media: MediaActivities
    uploads_seen: list[str]  # KIE upload ids in the order they were stored

    def send(self, data: bytes, filename: str, kind: str) -> str:
        """The user sends a file; returns the file_id the bot would read from the update."""
        message = self.telegram.inject_file(USER, data, filename=filename, kind=kind)["message"]
        media = message[kind]
        return media[-1]["file_id"] if isinstance(media, list) else media["file_id"]

    def uploads(self, way: str = "uploads") -> int:
        """How many files KIE received: all ("uploads") or "uploads_base64" / "uploads_stream"."""
        return self.kie.engine.stats[way]

    def uploaded(self, url: str) -> Any:
        file_id = url.split("/uploads/", 1)[1].split("/", 1)[0]
        return self.kie.engine.uploads[file_id]


class _RecordingDict(dict):
    """The KIE simulator's upload store, recording the order of stores and running hooks on each."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__()
        self.seen = seen
        self.hooks: list[Any] = []

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.seen.append(key)
        for hook in list(self.hooks):
            hook(len(self.seen))


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with (
        running_simulator() as telegram,
        KieSimulator(KieSimConfig(latency=0.05, latency_jitter=0, seed=3)) as kie,
        aiohttp.ClientSession() as http,
    ):
        bot = bot_for(telegram)
        client = KieClient(http, base_url=kie.url, upload_base_url=kie.url, api_key="test-key")
        seen: list[str] = []
        kie.engine.uploads = _RecordingDict(seen)
        try:
            yield Rig(telegram, kie, MediaActivities(bot, client), seen)
        finally:
            await bot.session.close()


class Heartbeats(list):
    def __call__(self, *details: Any) -> None:
        self.append(details)

    @property
    def last_details(self) -> dict[str, str]:
        return next((d[0] for d in reversed(self) if d), {})


def environment(heartbeats: Heartbeats, *, details: dict[str, str] | None = None) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.on_heartbeat = heartbeats
    env.info = dataclasses.replace(
        env.info,
        heartbeat_details=[details] if details is not None else [],
        attempt=2 if details is not None else 1,
        heartbeat_timeout=timedelta(seconds=30),
    )
    return env


def prepare(model_id: str, inputs: dict[str, Any], *fields: str) -> PrepareInput:
    return PrepareInput(
        generation_id=f"gen-{USER}-{uuid.uuid4().hex[:8]}",
        model_id=model_id,
        inputs=inputs,
        media_fields=list(fields),
    )


def sample(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def big_png(size: int) -> bytes:
    """A PNG signature followed by ``size`` bytes in all (the simulators sniff, they do not decode)."""
    head = make_png(64, 64)
    return head + os.urandom(size - len(head))


def voice_bytes() -> bytes:
    return b"OggS\x00\x02" + os.urandom(4000)


# --- one file of each kind ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "filename", "data", "model_id", "field", "mime"),
    [
        ("photo", "photo.png", make_png(320, 240), "qwen/image-edit", "image_url", "image/png"),
        ("document", "drawing.png", make_png(100, 80), "qwen/image-edit", "image_url", "image/png"),
        ("video", "clip.mp4", sample("sample.mp4"), "topaz/video-upscale", "video_url", "video/mp4"),
        ("voice", "voice.ogg", voice_bytes(), "elevenlabs/audio-isolation", "audio_url", "audio/ogg"),
        ("audio", "song.mp3", sample("sample.mp3"), "suno/upload-cover", "uploadUrl", "audio/mpeg"),
    ],
    ids=["photo", "document", "video", "voice", "audio"],
)
async def test_a_file_of_each_kind_reaches_kie_unchanged(
    rig: Rig, kind: str, filename: str, data: bytes, model_id: str, field: str, mime: str
) -> None:
    file_id = rig.send(data, filename, kind)
    heartbeats = Heartbeats()
    data_in = prepare(model_id, {field: file_id, "prompt": "keep me"}, field)
    result = await environment(heartbeats).run(rig.media.prepare_inputs, data_in)

    url = result[field]
    assert url.startswith(rig.kie.url + "/uploads/") and result["prompt"] == "keep me"
    stored = rig.uploaded(url)
    assert stored.data == data and stored.mime_type == mime
    # One folder per generation; the name is the file's Telegram unique id, so a re-upload replaces it.
    assert stored.path.startswith(f"genflow/{data_in.generation_id}/")
    assert rig.uploads("uploads_base64") == 1 and rig.uploads("uploads_stream") == 0
    # Before the file, after the download, after the upload: the last one names the uploaded file.
    assert len(heartbeats) >= 3 and heartbeats[0] == ({},)
    assert heartbeats.last_details == {file_id: url}


async def test_lists_urls_and_repeats(rig: Rig) -> None:
    first = rig.send(make_png(50, 50, (1, 2, 3)), "a.png", "photo")
    second = rig.send(make_png(60, 60, (4, 5, 6)), "b.png", "document")
    link = "https://example.com/already-public.jpg"
    data_in = prepare("google/nano-banana-edit", {"image_urls": [first, link, second, first]}, "image_urls")
    result = await environment(Heartbeats()).run(rig.media.prepare_inputs, data_in)

    urls = result["image_urls"]
    assert urls[1] == link and urls[0] == urls[3] != urls[2]
    assert rig.uploads("uploads") == 2  # the repeated file once, the URL not at all
    assert data_in.inputs["image_urls"][0] == first  # the workflow's copy is not modified


async def test_a_large_file_is_streamed_with_heartbeats(rig: Rig) -> None:
    data = big_png(3 * MB)  # over the client's 1 MB base64 threshold
    file_id = rig.send(data, "big.png", "document")
    heartbeats = Heartbeats()
    result = await environment(heartbeats).run(
        rig.media.prepare_inputs, prepare("qwen/image-edit", {"image_url": file_id}, "image_url")
    )
    assert rig.uploaded(result["image_url"]).data == data
    assert (rig.uploads("uploads_stream"), rig.uploads("uploads_base64")) == (1, 0)
    # The download (64 KB pieces) and the stream (256 KB pieces) heartbeat as they go, never losing
    # the progress in the details.
    assert len(heartbeats) > 3 * MB // (256 * 1024)
    assert all(beat == ({},) for beat in heartbeats[:-1]) and heartbeats[-1] == (
        {file_id: result["image_url"]},
    )


# --- refusals ---------------------------------------------------------------------------------------


async def failure(rig: Rig, data_in: PrepareInput) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await environment(Heartbeats()).run(rig.media.prepare_inputs, data_in)
    return caught.value


async def test_over_telegrams_20_mb_fails_for_good(rig: Rig) -> None:
    file_id = rig.send(big_png(21 * 2**20), "huge.png", "document")
    error = await failure(rig, prepare("nano-banana-pro", {"image_input": [file_id]}, "image_input"))
    assert (error.type, error.non_retryable) == ("MediaTooLarge", True)
    assert rig.uploads("uploads") == 0


async def test_over_the_models_limit_fails_before_downloading(rig: Rig) -> None:
    file_id = rig.send(big_png(6 * MB), "big.png", "document")
    heartbeats = Heartbeats()
    with pytest.raises(ApplicationError) as caught:
        await environment(heartbeats).run(
            rig.media.prepare_inputs, prepare("recraft/remove-background", {"image": file_id}, "image")
        )
    assert (caught.value.type, caught.value.non_retryable) == ("MediaTooLarge", True)
    assert "6.0 MB" in str(caught.value) and "5.0 MB" in str(caught.value)
    assert heartbeats == [({},)]  # refused on getFile's size: nothing was downloaded
    assert [c.method for c in rig.telegram.calls_to("getFile")] == ["getFile"]


async def test_a_file_id_telegram_does_not_know(rig: Rig) -> None:
    error = await failure(
        rig, prepare("qwen/image-edit", {"image_url": "AgACAgIAAxkBAAIBogone"}, "image_url")
    )
    assert (error.type, error.non_retryable) == ("MediaUnavailable", True)
    assert "invalid file_id" in str(error)


async def test_telegram_trouble_is_retried(rig: Rig) -> None:
    file_id = rig.send(make_png(), "p.png", "photo")
    rig.telegram.queue_fault(502, method="getFile")
    error = await failure(rig, prepare("qwen/image-edit", {"image_url": file_id}, "image_url"))
    assert (error.type, error.non_retryable) == ("TelegramUnavailable", False)
    rig.telegram.queue_fault(429, method="getFile", retry_after=7)
    error = await failure(rig, prepare("qwen/image-edit", {"image_url": file_id}, "image_url"))
    assert (error.non_retryable, error.next_retry_delay) == (False, timedelta(seconds=7))


async def test_kie_upload_refusals(rig: Rig) -> None:
    file_id = rig.send(make_png(), "p.png", "photo")
    rig.kie.engine.reconfigure({"api_key": "another-key"})  # our key is refused: 401, not retryable
    error = await failure(rig, prepare("qwen/image-edit", {"image_url": file_id}, "image_url"))
    assert (error.type, error.non_retryable) == ("KieUpload", True)


# --- retries after partial progress ---------------------------------------------------------------


def fail_second_get_file_once(rig: Rig) -> None:
    """When KIE has stored the first file, Telegram answers the next getFile with a 500 (once)."""
    hooks = rig.kie.engine.uploads.hooks

    def hook(count: int) -> None:
        if count == 1:
            rig.telegram.queue_fault(500, method="getFile")

    hooks.append(hook)


async def test_a_retry_uploads_only_what_is_missing(rig: Rig) -> None:
    photo = rig.send(make_png(90, 90), "face.png", "photo")
    voice = rig.send(voice_bytes(), "voice.ogg", "voice")
    data_in = prepare(
        "kling/ai-avatar-standard", {"image_url": photo, "audio_url": voice}, "image_url", "audio_url"
    )
    fail_second_get_file_once(rig)

    first = Heartbeats()
    with pytest.raises(ApplicationError) as caught:
        await environment(first).run(rig.media.prepare_inputs, data_in)
    assert caught.value.non_retryable is False
    progress = first.last_details
    assert list(progress) == [photo] and rig.uploads("uploads") == 1

    # The next attempt starts from the details of the last heartbeat, as Temporal hands them over.
    second = Heartbeats()
    result = await environment(second, details=progress).run(rig.media.prepare_inputs, data_in)
    assert result["image_url"] == progress[photo]
    assert rig.uploads("uploads") == 2  # only the voice message this time
    assert rig.uploaded(result["audio_url"]).data == rig.telegram.engine.state.file_bytes(
        rig.telegram.engine.state.files[voice]
    )
    assert second.last_details == {photo: result["image_url"], voice: result["audio_url"]}


async def test_unreadable_heartbeat_details_start_over(rig: Rig) -> None:
    photo = rig.send(make_png(), "p.png", "photo")
    env = environment(Heartbeats())
    env.info = dataclasses.replace(env.info, heartbeat_details=["garbage", 3])
    result = await env.run(
        rig.media.prepare_inputs, prepare("qwen/image-edit", {"image_url": photo}, "image_url")
    )
    assert result["image_url"].startswith(rig.kie.url) and rig.uploads("uploads") == 1


@workflow.defn(sandboxed=False)
class PrepareOnly:
    """Just the prepare step of GenerationWorkflow, with a fast retry."""

    @workflow.run
    async def run(self, data: PrepareInput) -> dict:
        return await workflow.execute_activity(
            "prepare_inputs",
            data,
            result_type=dict,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3),
        )


async def test_the_progress_survives_a_real_retry(rig: Rig, temporal_dev: WorkflowEnvironment) -> None:
    """Through a Temporal server: the details of a heartbeat sent within the throttling interval still
    reach the next attempt, so the first file is not uploaded twice."""
    photo = rig.send(make_png(70, 70), "p.png", "photo")
    clip = rig.send(sample("sample.mp4"), "clip.mp4", "video")
    data_in = prepare(
        "kling-2.6/motion-control", {"input_urls": [photo], "video_urls": [clip]}, "input_urls", "video_urls"
    )
    fail_second_get_file_once(rig)
    queue = f"media-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_dev.client, task_queue=queue, workflows=[PrepareOnly], activities=[rig.media.prepare_inputs]
    ):
        handle = await temporal_dev.client.start_workflow(
            PrepareOnly.run, data_in, id=f"prepare-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        result = await asyncio.wait_for(handle.result(), 20)
    assert rig.uploads("uploads") == 2
    history = [e async for e in handle.fetch_history_events()]
    started = [e for e in history if e.HasField("activity_task_started_event_attributes")]
    assert started[-1].activity_task_started_event_attributes.attempt == 2
    assert rig.uploaded(result["input_urls"][0]).data == make_png(70, 70)
    assert rig.uploaded(result["video_urls"][0]).data == sample("sample.mp4")


async def test_a_refused_file_fails_the_workflow_step_without_retries(
    rig: Rig, temporal_dev: WorkflowEnvironment
) -> None:
    queue = f"media-{uuid.uuid4().hex[:8]}"
    data_in = prepare("qwen/image-edit", {"image_url": "no-such-file"}, "image_url")
    async with Worker(
        temporal_dev.client, task_queue=queue, workflows=[PrepareOnly], activities=[rig.media.prepare_inputs]
    ):
        handle = await temporal_dev.client.start_workflow(
            PrepareOnly.run, data_in, id=f"prepare-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        with pytest.raises(WorkflowFailureError) as caught:
            await asyncio.wait_for(handle.result(), 20)
    activity_error = caught.value.cause
    assert isinstance(activity_error, ActivityError) and activity_error.retry_state is not None
    assert isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.type == "MediaUnavailable"
    history = [e async for e in handle.fetch_history_events()]
    started = [e for e in history if e.HasField("activity_task_started_event_attributes")]
    assert [e.activity_task_started_event_attributes.attempt for e in started] == [1]
