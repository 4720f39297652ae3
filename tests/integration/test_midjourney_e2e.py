"""Midjourney end to end through the real processes (dev server, PostgreSQL, worker, webhooks, both
simulators): one generation per catalog model, the user's photo reaching KIE, and a failed task refunded."""

from __future__ import annotations

import asyncio
from typing import Any

from contracts.models import Outcome
from tests.fixtures.system import System
from tests.integration.test_families_e2e import (
    START_CREDITS,
    assert_generated,
    delivered,
    download,
    generate,
    kie_task,
)


async def test_text_to_image_delivers_four_images(system: System) -> None:
    generation = await generate(system, "midjourney/text-to-image")
    await assert_generated(system, generation, files=4)  # four photo messages, charged once, ledger right
    assert [m["media"][0]["kind"] for m in await delivered(system, generation.user_id)] == ["photo"] * 4
    await system.assert_ledger_consistent()

    body = (await kie_task(system, generation.result.task_id))["body"]
    assert body["taskType"] == "mj_txt2img" and body["speed"] == "fast"  # system default, catalog default
    assert body["callBackUrl"] and generation.price == 8  # prices.toml: fast = 8
    # The signed MJ callback reached our webhook server, which found its task id (data.taskId) and took it.
    [callback] = await delivered_callbacks(system, generation.result.task_id)
    assert callback["status"] == 200


async def delivered_callbacks(system: System, task_id: str, within: float = 10) -> list[dict[str, Any]]:
    """The simulator's record of the task's callback deliveries, once one has been answered."""
    for _ in range(int(within / 0.1)):
        records = (await kie_task(system, task_id))["callbacks"]
        if any(r["outcome"] == "delivered" for r in records):
            return [r for r in records if r["outcome"] == "delivered"]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no callback delivered for {task_id}: {records}")


async def test_image_to_image_takes_the_users_photo(system: System) -> None:
    generation = await generate(system, "midjourney/image-to-image")
    await assert_generated(system, generation, files=4)
    await system.assert_ledger_consistent()

    body = (await kie_task(system, generation.result.task_id))["body"]
    assert body["taskType"] == "mj_img2img"
    [url] = body["fileUrls"]
    assert f"/genflow/{generation.workflow_id}/" in url and "/uploads/" in url  # uploaded, no Telegram id
    assert await download(system, url) == generation.sent[0].data


async def test_image_to_video_delivers_the_videos_asked_for(system: System) -> None:
    generation = await generate(
        system, "midjourney/image-to-video", {"videoBatchSize": 2, "taskType": "mj_video_hd"}
    )
    await assert_generated(system, generation, files=2)
    await system.assert_ledger_consistent()
    body = (await kie_task(system, generation.result.task_id))["body"]
    assert (body["taskType"], body["motion"], body["videoBatchSize"]) == ("mj_video_hd", "high", 2)
    assert generation.price == 2 * 180


async def test_a_failed_midjourney_task_is_refunded(system: System) -> None:
    generation = await generate(system, "midjourney/text-to-image", {"prompt": "a castle [sim:fail:400]"})
    assert generation.error is None and generation.result is not None
    assert generation.result.outcome == Outcome.FAILED and not generation.result.charged
    balance = await system.ledger.balance(generation.user_id)
    assert (balance.balance, balance.held) == (START_CREDITS, 0)
    assert await delivered(system, generation.user_id) == []
    await system.assert_ledger_consistent()
