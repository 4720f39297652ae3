import pytest

from db import Generations, Ledger

GEN = "gen-5-abc"


async def _create(generations: Generations, id: str = GEN, user_id: int = 5, **overrides) -> bool:
    args = (
        dict(
            chat_id=500,
            model_id="flux-kontext",
            format="image",
            inputs={"prompt": "a cat", "n": 1},
            price=12,
            free=False,
            language="en",
        )
        | overrides
    )
    return await generations.create(id, user_id, **args)


async def test_create_inserts_once(generations: Generations, ledger: Ledger) -> None:
    assert await _create(generations, status_message_id=77)
    assert not await _create(generations, price=999)  # a replayed create leaves the row as it was
    record = await generations.get(GEN)
    assert (record.user_id, record.chat_id) == (5, 500)
    assert (record.model_id, record.format) == ("flux-kontext", "image")
    assert record.inputs == {"prompt": "a cat", "n": 1}
    assert (record.price, record.free, record.language, record.status_message_id) == (12, False, "en", 77)
    assert (record.stage, record.status) == ("created", "pending")
    assert record.kie_task_ids == [] and record.finished_at is None
    assert not record.delivery_failed and not record.finished
    # The generation's user exists (with an empty account) even if nobody called ensure_user.
    assert (await ledger.get_user(5)).language == "en"
    assert (await ledger.balance(5)).balance == 0
    assert await generations.get("gen-missing") is None


async def test_set_stage_and_fields(generations: Generations) -> None:
    await _create(generations)
    before = await generations.get(GEN)
    assert await generations.set_stage(GEN, "submit", "running", status_message_id=88, price=15)
    record = await generations.get(GEN)
    assert (record.stage, record.status) == ("submit", "running")
    assert (record.status_message_id, record.price) == (88, 15)
    assert record.updated_at > before.updated_at and record.finished_at is None
    await generations.set_stage(GEN, "await_result")
    assert (await generations.get(GEN)).status == "running"
    assert not await generations.set_stage("gen-missing", "submit")
    with pytest.raises(ValueError, match="cannot set"):
        await generations.set_stage(GEN, "x", user_id=6)
    with pytest.raises(ValueError, match="status must be one of"):
        await generations.set_stage(GEN, "x", status="done")  # type: ignore[arg-type]


async def test_a_final_status_via_set_stage_sets_finished_at(generations: Generations) -> None:
    await _create(generations)
    await generations.set_stage(GEN, "cancelled", "cancelled")
    assert (await generations.get(GEN)).finished_at is not None


async def test_add_task_id_appends_once(generations: Generations) -> None:
    await _create(generations)
    assert await generations.add_task_id(GEN, "task-1")
    assert not await generations.add_task_id(GEN, "task-1")
    assert await generations.add_task_id(GEN, "task-2")
    assert (await generations.get(GEN)).kie_task_ids == ["task-1", "task-2"]


async def test_each_task_remembers_the_account_that_made_it(generations: Generations) -> None:
    await _create(generations)
    assert await generations.add_task_id(GEN, "task-k1", "key-a")
    assert not await generations.add_task_id(GEN, "task-k1", None)  # a retry that lost the key keeps it
    assert await generations.key_of_task("task-k1") == "key-a"
    assert await generations.key_of_task("someone-elses") is None


async def test_finish_success_and_delivery(generations: Generations) -> None:
    await _create(generations)
    files = [{"url": "https://kie.example/1.png", "type": "image"}]
    assert await generations.finish(GEN, "succeeded", result=files)
    first = await generations.get(GEN)
    assert (first.status, first.result, first.finished) == ("succeeded", files, True)
    await generations.finish(GEN, "succeeded", result=files)  # a retried activity keeps the first time
    assert (await generations.get(GEN)).finished_at == first.finished_at
    await generations.set_file_ids(GEN, ["AgACAgIAAx0"])
    await generations.mark_delivery_failed(GEN, "bot was blocked by the user")
    record = await generations.get(GEN)
    assert record.telegram_file_ids == ["AgACAgIAAx0"]
    assert record.delivery_failed and record.delivery_error == "bot was blocked by the user"
    assert record.status == "succeeded"


async def test_finish_failure(generations: Generations) -> None:
    await _create(generations)
    await generations.finish(GEN, "failed", error_code="timeout", error_message="no result in 15 min")
    record = await generations.get(GEN)
    assert record.status == "failed"
    assert (record.error_code, record.error_message) == ("timeout", "no result in 15 min")
    with pytest.raises(ValueError):
        await generations.finish(GEN, "running")  # type: ignore[arg-type]
    assert not await generations.finish("gen-missing", "failed")


async def test_history_and_in_progress(generations: Generations) -> None:
    for i in range(4):
        await _create(generations, id=f"gen-5-{i}")
    await _create(generations, id="gen-6-0", user_id=6)
    await generations.set_stage("gen-5-1", "submit", "running")
    await generations.finish("gen-5-2", "succeeded", result=[])
    assert await generations.in_progress_count(5) == 3
    assert await generations.in_progress_count(6) == 1
    assert await generations.in_progress_count(7) == 0
    recent = await generations.recent_for_user(5, limit=3)
    assert [r.id for r in recent] == ["gen-5-3", "gen-5-2", "gen-5-1"]
