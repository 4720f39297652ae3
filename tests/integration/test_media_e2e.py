"""The user's files through the whole stack: Telegram → getFile → KIE upload → the model's input, and the
refusals (too large for the model, unknown to Telegram) that end a generation before KIE is asked."""

from __future__ import annotations

import os
import time
from typing import Any

from contracts.models import Outcome, Reason
from simulators.telegram.testing import make_png
from tests.fixtures.system import System, finished
from tests.integration.test_families_e2e import (
    CATALOG,
    START_CREDITS,
    Sent,
    assert_generated,
    download,
    kie_task,
    send_file,
    start,
)

MB = 1_000_000


async def kie_stats(system: System) -> dict[str, Any]:
    async with system.http.get(f"{system.kie}/_sim/stats") as response:
        return await response.json()


def png_of(size: int) -> bytes:
    head = make_png(128, 128)
    return head + os.urandom(size - len(head))


async def generate_with(system: System, model_id: str, files: dict[str, Sent | list[Sent]], user_id: int):
    inputs = dict(CATALOG.get(model_id).example)
    for field, sent in files.items():
        inputs[field] = [s.file_id for s in sent] if isinstance(sent, list) else sent.file_id
    return await system.generate(user_id, model_id, inputs)


async def test_a_document_image_and_a_voice_message_reach_kie_unchanged(system: System) -> None:
    user_id = await system.new_user(START_CREDITS)
    image = await send_file(system, user_id, "document", "portrait.png", make_png(300, 400))
    voice = await send_file(system, user_id, "voice", "hello.ogg", b"OggS\x00\x02" + os.urandom(6000))
    model_id = "kling/ai-avatar-standard"
    for field, sent in (("image_url", image), ("audio_url", voice)):
        assert (
            CATALOG.check_media(model_id, field, kind=sent.kind, mime_type=sent.mime_type, size=sent.size)
            is None
        )
    handle = await generate_with(system, model_id, {"image_url": image, "audio_url": voice}, user_id)
    result = await finished(handle)
    assert result.outcome == Outcome.SUCCEEDED and result.delivered
    body = (await kie_task(system, result.task_id))["body"]["input"]
    assert await download(system, body["image_url"]) == image.data
    assert await download(system, body["audio_url"]) == voice.data
    await system.assert_ledger_consistent()


async def test_a_large_file_is_streamed_to_kie(system: System) -> None:
    before = await kie_stats(system)
    user_id = await system.new_user(START_CREDITS)
    big = await send_file(system, user_id, "document", "big.png", png_of(3 * MB))  # over the base64 threshold
    handle = await generate_with(system, "nano-banana-pro", {"image_input": [big]}, user_id)
    result = await finished(handle)
    assert result.outcome == Outcome.SUCCEEDED
    body = (await kie_task(system, result.task_id))["body"]["input"]
    assert await download(system, body["image_input"][0]) == big.data
    after = await kie_stats(system)
    assert after.get("uploads_stream", 0) == before.get("uploads_stream", 0) + 1


async def test_a_file_too_large_for_the_model_is_refunded_before_kie(system: System) -> None:
    user_id = await system.new_user(START_CREDITS)
    big = await send_file(system, user_id, "document", "big.png", png_of(6 * MB))
    # The bot's check refuses it with the reason; if it were let through, the workflow refuses it too.
    error = CATALOG.check_media(
        "recraft/remove-background", "image", kind=big.kind, mime_type=big.mime_type, size=big.size
    )
    assert error is not None and error.rule == "media_size"
    assert error.message("en").startswith("Image: the file is too large (6 MB).")
    tasks_before = (await kie_stats(system))["tasks"]
    started = time.monotonic()
    handle = await generate_with(system, "recraft/remove-background", {"image": big}, user_id)
    result = await finished(handle)
    assert (result.outcome, result.reason, result.charged) == (
        Outcome.FAILED,
        Reason.INPUT_MEDIA_FAILED,
        False,
    )
    assert "MediaTooLarge" in (result.detail or "") or "over the limit" in (result.detail or "")
    assert time.monotonic() - started < 10  # not retried: the file will not shrink
    assert (await kie_stats(system))["tasks"] == tasks_before
    balance = await system.ledger.balance(user_id)
    assert (balance.balance, balance.held) == (START_CREDITS, 0)
    await system.assert_ledger_consistent()


async def test_a_file_telegram_does_not_know_is_refunded(system: System) -> None:
    user_id = await system.new_user(START_CREDITS)
    inputs = {**CATALOG.get("qwen/image-edit").example, "image_url": "AgACAgIAAxkBAAIBnotafile"}
    handle = await system.generate(user_id, "qwen/image-edit", inputs)
    result = await finished(handle)
    assert (result.outcome, result.reason, result.charged) == (
        Outcome.FAILED,
        Reason.INPUT_MEDIA_FAILED,
        False,
    )
    balance = await system.ledger.balance(user_id)
    assert (balance.balance, balance.held) == (START_CREDITS, 0)


async def test_several_user_files_for_one_input(system: System) -> None:
    generation, handle = await start(system, "flux-2/pro-image-to-image")
    assert len(generation.sent) == 2  # the example lists two reference images
    generation.result = await finished(handle)
    await assert_generated(system, generation, files=1)
    body = (await kie_task(system, generation.result.task_id))["body"]["input"]
    assert [await download(system, url) for url in body["input_urls"]] == [s.data for s in generation.sent]
