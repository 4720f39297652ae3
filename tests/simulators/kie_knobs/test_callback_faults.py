"""Callback faults of the KIE simulator: duplicated, lost, late, retried and given-up callbacks, Suno's
stages out of order, unsigned callbacks without an HMAC key."""

from __future__ import annotations

import json

import aiohttp

from simulators.kie import KieSimulator
from simulators.kie.testing import CallbackReceiver
from tests.simulators.kie_knobs.client import RECORD, create, final, get, market_body, settled


async def test_duplicated_callbacks(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(callback_duplicate_share=1.0)
    task_id = await create(http, sim, market_body(receiver))
    copies = sim.tasks[task_id].plan.callback_copies
    assert copies in (2, 3)
    received = await receiver.wait_for(task_id, copies)
    assert len({json.dumps(cb.body, sort_keys=True) for cb in received}) == 1  # identical bodies
    assert sim.stats["callbacks_duplicated"] == copies - 1


async def test_lost_callback(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(callback_lost_share=1.0)
    task_id = await create(http, sim, market_body(receiver))
    await final(sim, task_id)
    # Nothing was scheduled: the record says "lost" and polling remains the only way to learn the outcome.
    assert [record.outcome for record in sim.tasks[task_id].callbacks] == ["lost"]
    assert sim.stats["callbacks_lost"] == 1 and not receiver.received
    assert (await get(http, sim.url + RECORD, taskId=task_id))[1]["data"]["state"] == "success"


async def test_nocallback_marker(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    task_id = await create(http, sim, market_body(receiver, prompt="[sim:nocallback] a cat"))
    await final(sim, task_id)
    assert sim.stats["callbacks_lost"] == 1 and not receiver.received


async def test_late_callback_arrives_after_status_is_final(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(callback_late_share=1.0, callback_late_delay=0.3)
    task_id = await create(http, sim, market_body(receiver))
    await final(sim, task_id)
    assert (await get(http, sim.url + RECORD, taskId=task_id))[1]["data"]["state"] == "success"
    assert not receiver.received
    [callback] = await receiver.wait_for(task_id)
    assert callback.received_at - sim.tasks[task_id].completed_at >= 0.25


async def test_callback_retried_on_non_2xx(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    receiver.fail_next(2, status=503)
    task_id = await create(http, sim, market_body(receiver))
    await receiver.wait_for(task_id)
    assert [cb.answered for cb in receiver.for_task(task_id, accepted_only=False)] == [503, 503, 200]
    assert [(r.attempt, r.outcome) for r in sim.tasks[task_id].callbacks] == [
        (1, "rejected"),
        (2, "rejected"),
        (3, "delivered"),
    ]


async def test_callback_given_up_after_three_attempts(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    receiver.fail_next(-1, status=500)
    task_id = await create(http, sim, market_body(receiver))
    await settled(sim, task_id)
    assert sim.stats["callbacks_given_up"] == 1
    assert len(receiver.received) == 3
    # Unreachable receivers are counted too, and the server keeps serving.
    unreachable = {**market_body(), "callBackUrl": "http://127.0.0.1:9/nowhere"}
    task_id = await create(http, sim, unreachable)
    await settled(sim, task_id)
    assert sim.stats["callbacks_given_up"] == 2
    assert sim.tasks[task_id].callbacks[0].outcome == "error"
    assert (await get(http, sim.url + "/api/v1/chat/credit"))[0] == 200


async def test_suno_out_of_order(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(suno_out_of_order_share=1.0)
    body = {"prompt": "song", "customMode": False, "callBackUrl": receiver.url()}
    task_id = await create(http, sim, body, "/api/v1/generate")
    received = await receiver.wait_for(task_id, 3)
    assert [cb.callback_type for cb in received] == ["complete", "first", "text"]


async def test_unsigned_without_hmac_key(
    sim: KieSimulator, receiver: CallbackReceiver, http: aiohttp.ClientSession
) -> None:
    sim.configure(webhook_hmac_key=None)
    task_id = await create(http, sim, market_body(receiver))
    [callback] = await receiver.wait_for(task_id)
    assert "X-Webhook-Signature" not in callback.headers and "X-Webhook-Timestamp" not in callback.headers
