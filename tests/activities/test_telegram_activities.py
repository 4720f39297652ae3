"""Delivery and status messages through the real aiogram Bot against the Telegram Bot API simulator:
every fallback (URL → upload → document → link) and every error class, with the generation row updated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.telegram import TelegramActivities
from catalog import get_catalog
from contracts.buttons import (
    GenerationAction,
    GenerationOp,
    Menu,
    MenuTarget,
)
from contracts.models import DeliverInput, NotifyInput, Reason, ResultFile, Stage
from db import Generations
from simulators.kie.media import asset
from simulators.telegram.simulator import TelegramSimulator
from simulators.telegram.testing import bot_for, make_png, running_simulator, serve_files

USER = 5001
PNG = make_png(320, 240)
BIG_PHOTO = b"\x89PNG\r\n\x1a\n" + b"\0" * (12 * 1024 * 1024)  # over the 5 MB by-URL and 10 MB upload limits
HUGE = b"\0" * (51 * 1024 * 1024)  # over the bot upload limit: only a link is left


@dataclass
class Harness:
    sim: TelegramSimulator
    activities: TelegramActivities
    generations: Generations
    files: str  # base URL of a CDN standing in for KIE's file storage

    def deliver_input(
        self, *files: ResultFile, gid: str = "gen-5001-abc", status_message_id=None
    ) -> DeliverInput:
        return DeliverInput(
            generation_id=gid,
            chat_id=USER,
            language="en",
            model_id="google/nano-banana",
            status_message_id=status_message_id,
            files=list(files),
            price=4,
        )

    def bot_media(self) -> list:
        return [m for m in self.sim.chat(USER).from_bot() if m.media]


@pytest.fixture
async def harness(db_pool) -> AsyncIterator[Harness]:
    files = {
        "/ok.png": (PNG, "image/png"),
        "/octet.png": (PNG, "application/octet-stream"),  # Telegram refuses the content type; we upload
        "/big.png": (BIG_PHOTO, "image/png"),
        "/huge.mp4": (HUGE, "video/mp4"),
        "/song-1.mp3": (asset("mp3"), "audio/mpeg"),
        "/song-2.mp3": (asset("mp3"), "audio/mpeg"),
        "/clip.mp4": (asset("mp4"), "video/mp4"),
    }
    generations = Generations(db_pool)
    await generations.create(
        "gen-5001-abc",
        user_id=USER,
        chat_id=USER,
        model_id="google/nano-banana",
        format="text-to-image",
        inputs={},
        price=4,
        free=False,
        language="en",
    )
    async with running_simulator() as sim, serve_files(files) as base, aiohttp.ClientSession() as http:
        sim.add_user(USER, first_name="Ann")
        bot = bot_for(sim)
        try:
            yield Harness(sim, TelegramActivities(bot, generations, http, get_catalog()), generations, base)
        finally:
            await bot.session.close()


async def deliver(h: Harness, data: DeliverInput, heartbeat_details: list | None = None):
    env = ActivityEnvironment()
    if heartbeat_details is not None:
        env.info = env.info.__class__(**{**env.info.__dict__, "heartbeat_details": heartbeat_details})
    return await env.run(h.activities.deliver_result, data)


async def test_photo_by_url_and_file_id_stored(harness: Harness):
    status = await harness.activities.bot.send_message(USER, "Generating…")
    out = await deliver(
        harness,
        harness.deliver_input(
            ResultFile(url=f"{harness.files}/ok.png", media_type="image"), status_message_id=status.message_id
        ),
    )
    assert out.delivered and out.method == "url" and len(out.file_ids) == 1
    [message] = harness.bot_media()
    assert message.media[0].kind == "photo"
    # The model as the user knows it from the menu, not its API id.
    assert message.caption == f"✅ {get_catalog().get('google/nano-banana').title_for('en')} · 4 credits"
    record = await harness.generations.get("gen-5001-abc")
    assert record.telegram_file_ids == out.file_ids and record.stage == Stage.DONE.value
    assert next(m for m in harness.sim.chat(USER).messages if m.message_id == status.message_id).deleted


async def test_url_refused_falls_back_to_upload(harness: Harness):
    out = await deliver(
        harness, harness.deliver_input(ResultFile(url=f"{harness.files}/octet.png", media_type="image"))
    )
    assert out.delivered and out.method == "upload"
    assert harness.bot_media()[0].media[0].kind == "photo"


async def test_photo_too_big_for_photo_goes_as_document(harness: Harness):
    out = await deliver(
        harness, harness.deliver_input(ResultFile(url=f"{harness.files}/big.png", media_type="image"))
    )
    assert out.delivered and out.method == "document"
    assert harness.bot_media()[0].media[0].kind == "document"


async def test_file_too_big_to_upload_becomes_a_link(harness: Harness):
    url = f"{harness.files}/huge.mp4"
    out = await deliver(harness, harness.deliver_input(ResultFile(url=url, media_type="video")))
    assert out.delivered and out.method == "link"
    assert any(url in (m.text or "") for m in harness.sim.chat(USER).from_bot())


async def test_two_tracks_go_as_one_media_group(harness: Harness):
    tracks = [ResultFile(url=f"{harness.files}/song-{i}.mp3", media_type="audio") for i in (1, 2)]
    out = await deliver(harness, harness.deliver_input(*tracks))
    assert out.delivered and out.method == "media_group" and len(out.file_ids) == 2
    media = harness.bot_media()
    assert len(media) == 2 and {m.media[0].kind for m in media} == {"audio"}
    assert media[0].media_group_id and media[0].media_group_id == media[1].media_group_id


async def test_mixed_files_go_one_by_one_in_order(harness: Harness):
    files = [
        ResultFile(url=f"{harness.files}/ok.png", media_type="image"),
        ResultFile(url=f"{harness.files}/song-1.mp3", media_type="audio"),
    ]
    out = await deliver(harness, harness.deliver_input(*files))
    assert [m.media[0].kind for m in harness.bot_media()] == ["photo", "audio"] and len(out.file_ids) == 2


async def test_retry_resumes_after_the_files_already_sent(harness: Harness):
    files = [
        ResultFile(url=f"{harness.files}/ok.png", media_type="image"),
        ResultFile(url=f"{harness.files}/clip.mp4", media_type="video"),
        ResultFile(url=f"{harness.files}/song-1.mp3", media_type="audio"),
    ]
    # The first attempt sent the photo, then died: its heartbeat remembered the file id.
    out = await deliver(harness, harness.deliver_input(*files), heartbeat_details=[["photo-file-id"]])
    assert [m.media[0].kind for m in harness.bot_media()] == ["video", "audio"]
    assert out.file_ids[0] == "photo-file-id" and len(out.file_ids) == 3


async def test_flood_control_retries_after_exactly_retry_after(harness: Harness):
    harness.sim.queue_fault(429, method="sendPhoto", retry_after=17)
    with pytest.raises(ApplicationError) as raised:
        await deliver(
            harness, harness.deliver_input(ResultFile(url=f"{harness.files}/ok.png", media_type="image"))
        )
    assert raised.value.next_retry_delay == timedelta(seconds=17) and not raised.value.non_retryable


async def test_server_errors_are_retried(harness: Harness):
    harness.sim.queue_fault(502, method="sendPhoto")
    with pytest.raises(ApplicationError) as raised:
        await deliver(
            harness, harness.deliver_input(ResultFile(url=f"{harness.files}/ok.png", media_type="image"))
        )
    assert not raised.value.non_retryable


async def test_blocked_user_is_recorded_not_retried(harness: Harness):
    harness.sim.block(USER)
    out = await deliver(
        harness, harness.deliver_input(ResultFile(url=f"{harness.files}/ok.png", media_type="image"))
    )
    assert not out.delivered and out.failure == "blocked"
    assert (await harness.generations.get("gen-5001-abc")).delivery_failed


async def test_status_message_edited_in_place_then_replaced_when_gone(harness: Harness):
    status = await harness.activities.bot.send_message(USER, "Starting…")
    env = ActivityEnvironment()
    note = NotifyInput(
        generation_id="gen-5001-abc",
        chat_id=USER,
        message_id=status.message_id,
        language="ru",
        stage=Stage.WAITING,
        model_id="google/nano-banana",
        progress=0.4,
    )
    await env.run(harness.activities.notify_status, note)
    await env.run(harness.activities.notify_status, note)  # "message is not modified" is fine
    edited = next(m for m in harness.sim.chat(USER).messages if m.message_id == status.message_id)
    assert "Генерируем" in edited.text and "40%" in edited.text

    await harness.activities.bot.delete_message(USER, status.message_id)
    failed = note.model_copy(update={"stage": Stage.FAILED, "reason": Reason.TIMED_OUT, "language": "en"})
    await env.run(harness.activities.notify_status, failed)
    last = harness.sim.chat(USER).from_bot()[-1]
    assert "took too long" in last.text and "Nothing was charged" in last.text
    assert {b["callback_data"] for b in last.buttons} == {
        GenerationAction(op=GenerationOp.AGAIN, key="abc").pack(),  # of gen-5001-abc
        Menu(to=MenuTarget.HOME).pack(),
    }


async def test_insufficient_credits_offers_top_up(harness: Harness):
    env = ActivityEnvironment()
    note = NotifyInput(
        generation_id="gen-5001-abc",
        chat_id=USER,
        message_id=None,
        language="en",
        stage=Stage.REJECTED,
        model_id="m",
        reason=Reason.INSUFFICIENT_CREDITS,
        shortfall=6,
    )
    await env.run(harness.activities.notify_status, note)
    last = harness.sim.chat(USER).from_bot()[-1]
    assert "you need 6 more" in last.text and Menu(to=MenuTarget.TOP_UP).pack() in {
        b["callback_data"] for b in last.buttons
    }
