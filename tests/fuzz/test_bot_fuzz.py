"""A short bot fuzz inside `make test`: the real bot process, a few hundred random updates at every form step,
every update that expects an answer answered, nothing raised, no money moved by forged payments.

`make chaos` runs the same fuzzer with a few thousand updates (testkit/bot_fuzz/). A stack of its own (the
bot must be the simulator's only poller, with an admin configured) on a fresh database of the session's
PostgreSQL.
"""

from __future__ import annotations

import pytest

from testkit.bot_fuzz import ADMIN_ID, REQUIRED_STEPS, BotFuzzPlan, run_bot_fuzz
from testkit.harness import Harness
from tests.fixtures.postgres import create_database

# 480 updates: reaching a model past its format's shortlist costs a "More" page or three.
PLAN = BotFuzzPlan(updates=480, users=14, seed=31, real_payments=2, rss_margin_mb=25.0)
CATEGORIES = {
    "text",
    "media",
    "command",
    "stale_callback",
    "forged_callback",
    "edited_message",
    "channel_post",
    "inline_query",
    "my_chat_member",
    "pre_checkout_forged",
    "successful_payment_forged",
    "unknown_update",
}


@pytest.mark.timeout(150)
async def test_random_updates_at_every_step_are_answered_and_raise_nothing(pg_server_url: str):
    _, database_url = await create_database(pg_server_url, "fuzz_bot")
    async with Harness.start(
        prefix="genflow-fuzz-bot-test-",
        processes=("worker", "telegram-worker", "webhooks", "bot"),
        database_url=database_url,
        extra_env={"ADMIN_IDS": str(ADMIN_ID)},
    ) as harness:
        report = await run_bot_fuzz(harness, PLAN)
    summary = "\n".join(f"{c.status:7} {c.name}: {c.detail}" for c in report.checks)
    assert [c.name for c in report.checks if c.status != "PASS"] == [], summary
    # The faults really were sent, of every kind, at every step; the answers really were counted.
    assert {c for c, n in report.categories.items() if n > 0} >= CATEGORIES, report.categories
    assert all(report.steps.get(step) for step in REQUIRED_STEPS), report.steps
    assert report.expected.get("message", 0) > 50 and report.expected.get("callback", 0) > 50, report.expected
    assert report.expected.get("pre_checkout", 0) > 0 and report.answered == report.expected
    assert report.money["forged_pre_checkouts"] > 0 and report.money["forged_successful_payments"] > 0
    assert report.money["real_payments"] > 0  # a real flow moved money, and only it
    assert {"some_future_update", "edited_message", "my_chat_member"} <= set(report.update_types)
