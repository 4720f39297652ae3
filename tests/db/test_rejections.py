"""ModelRejections: KIE's refusals of a model as invalid, recorded once per generation, alerted once a day."""

from __future__ import annotations

import asyncpg

from db import ModelRejections


async def test_refusals_are_recorded_once_and_the_first_of_the_day_asks_for_an_alert(
    db_pool: asyncpg.Pool,
) -> None:
    rejections = ModelRejections(db_pool)
    model = "test/drifting-model"
    assert await rejections.record("gen-1-a", model, "422", "prompt: unknown field") is True
    assert await rejections.record("gen-1-a", model, "422", "prompt: unknown field") is True  # a retry
    assert await rejections.record("gen-2-b", model, "422", "size: bad value") is False
    assert await rejections.record("gen-3-c", "test/another-model", "422", None) is True
    recent = {r.model_id: r for r in await rejections.recent(days=7)}
    assert recent[model].count == 2 and recent[model].last_message == "size: bad value"
    assert recent["test/another-model"].count == 1 and recent["test/another-model"].last_message is None
