"""The KIE credits check: the thin workflow (time-skipping, fake activity), its schedule (dev server), and the
activity against the KIE and Telegram simulators."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from temporalio import activity
from temporalio.client import Client, ScheduleOverlapPolicy, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.operations import OperationsActivities
from contracts.ids import KIE_CREDITS_SCHEDULE_ID
from contracts.money import KieCreditsCheck
from contracts.queues import telegram_task_queue
from genflow.embedded import temporal_test_server
from kie.accounts import KieAccounts
from kie.client import KieClient
from simulators.kie import KieSimConfig, KieSimulator
from simulators.telegram.testing import bot_for, running_simulator
from workflows.kie_credits import KieCreditsWorkflow
from workflows.schedules import KIE_CREDITS_INTERVAL, ensure_kie_credits_schedule


class FakeCredits:
    """check_kie_credits that fails ``failures`` times (KIE unreachable), then reports ``credits``."""

    def __init__(self, credits: int, failures: int = 0) -> None:
        self.credits, self.failures, self.calls = credits, failures, 0

    @activity.defn(name="check_kie_credits")
    async def check(self) -> KieCreditsCheck:
        self.calls += 1
        if self.calls <= self.failures:
            raise ApplicationError("KIE unreachable", type="KieCredits")
        return KieCreditsCheck(credits=self.credits, threshold=100, low=self.credits < 100)


@pytest.fixture
async def skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=temporal_test_server()
    )
    try:
        yield env
    finally:
        await env.shutdown()


@contextlib.asynccontextmanager
async def checking(client: Client, queue: str, fake: FakeCredits) -> AsyncIterator[None]:
    """The workflow on ``queue``; the check on the Telegram worker's queue (it messages the admins)."""
    async with (
        Worker(client, task_queue=queue, workflows=[KieCreditsWorkflow]),
        Worker(client, task_queue=telegram_task_queue(queue), activities=[fake.check]),
    ):
        yield


async def run_check(env: WorkflowEnvironment, fake: FakeCredits) -> KieCreditsCheck:
    queue = f"ops-{uuid.uuid4().hex[:8]}"
    async with checking(env.client, queue, fake):
        return await env.client.execute_workflow(
            KieCreditsWorkflow.run, id=f"kie-credits-{uuid.uuid4().hex[:6]}", task_queue=queue
        )


async def test_a_check_retries_through_a_short_kie_outage(skipping: WorkflowEnvironment):
    fake = FakeCredits(credits=42, failures=3)
    result = await run_check(skipping, fake)
    assert (result.credits, result.low, fake.calls) == (42, True, 4)


async def test_a_long_kie_outage_fails_this_run_only(skipping: WorkflowEnvironment):
    fake = FakeCredits(credits=42, failures=100)
    with pytest.raises(WorkflowFailureError):
        await run_check(skipping, fake)
    assert fake.calls == 5  # bounded: the next scheduled run tries again


async def test_the_schedule_is_created_once_and_starts_the_check(temporal_dev: WorkflowEnvironment):
    client: Client = temporal_dev.client
    queue = f"ops-{uuid.uuid4().hex[:8]}"
    try:
        await client.get_schedule_handle(KIE_CREDITS_SCHEDULE_ID).delete()
    except RPCError:
        pass  # not there: the usual case
    try:
        assert await ensure_kie_credits_schedule(client, queue) is True
        assert await ensure_kie_credits_schedule(client, queue) is False  # a second worker starting
        handle = client.get_schedule_handle(KIE_CREDITS_SCHEDULE_ID)
        described = await handle.describe()
        assert [i.every for i in described.schedule.spec.intervals] == [KIE_CREDITS_INTERVAL]
        assert described.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert described.schedule.action.workflow == "KieCreditsWorkflow"

        fake = FakeCredits(credits=5000)
        async with checking(client, queue, fake):
            await handle.trigger()
            for _ in range(200):
                actions = (await handle.describe()).info.recent_actions
                if actions:
                    break
                await asyncio.sleep(0.05)
            run = client.get_workflow_handle(actions[0].action.workflow_id, result_type=KieCreditsCheck)
            assert await run.result() == KieCreditsCheck(credits=5000, threshold=100, low=False)
    finally:
        await client.get_schedule_handle(KIE_CREDITS_SCHEDULE_ID).delete()


async def test_low_credits_log_an_error_and_message_every_reachable_admin(caplog: pytest.LogCaptureFixture):
    kie = KieSimulator(KieSimConfig(credits=50))
    kie_url = await kie.start()
    try:
        async with running_simulator() as telegram, aiohttp.ClientSession() as http:
            bot = bot_for(telegram)
            telegram.add_user(111)
            telegram.add_user(222)
            telegram.block(222)  # an admin who blocked the bot: logged, the others still hear
            client = KieClient(http, base_url=kie_url, upload_base_url=kie_url, api_key="ops-test-key")
            ops = OperationsActivities(
                KieAccounts(client, ["ops-test-key"]), bot, threshold=100, admin_ids=[111, 222]
            )
            with caplog.at_level(logging.INFO, logger="activities.operations"):
                low = await ActivityEnvironment().run(ops.check_kie_credits)
                kie.configure(credits=5000)
                fine = await ActivityEnvironment().run(ops.check_kie_credits)
            await bot.session.close()
            alerts = [m.text for m in telegram.chat(111).from_bot()]
    finally:
        await kie.stop()

    assert low == KieCreditsCheck(credits=50, threshold=100, low=True, admins_alerted=1, admins_failed=1)
    assert fine == KieCreditsCheck(credits=5000, threshold=100, low=False)
    assert len(alerts) == 1 and "50 left" in alerts[0]  # nothing sent when the balance is fine
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.alert for r in errors] == ["kie_credits_low"] and errors[0].kie_credits == 50
    assert "ops-test-key" not in caplog.text


async def test_a_refused_key_fails_at_once_and_says_so(caplog: pytest.LogCaptureFixture):
    kie = KieSimulator(KieSimConfig(api_key="the-right-key"))
    kie_url = await kie.start()
    try:
        async with running_simulator() as telegram, aiohttp.ClientSession() as http:
            bot = bot_for(telegram)
            client = KieClient(http, base_url=kie_url, upload_base_url=kie_url, api_key="a-wrong-key")
            ops = OperationsActivities(KieAccounts(client, ["a-wrong-key"]), bot, threshold=100, admin_ids=[])
            with pytest.raises(ApplicationError) as raised:
                await ActivityEnvironment().run(ops.check_kie_credits)
            await bot.session.close()
    finally:
        await kie.stop()
    assert raised.value.non_retryable
    assert any(r.levelno == logging.ERROR and "refused" in r.getMessage() for r in caplog.records)
