"""A reduced chaos run inside `make test`: 40 generations under KIE and Telegram faults and a worker SIGKILL,
a surge of 30 more with one of the two KIE keys revoked in the middle of it, and five Stars top-ups through
the bot with every successful payment delivered three times.

The full run (300 generations, three kills, a PostgreSQL restart) is `make chaos`; both run the same code and
the same checks (testkit/chaos/) on a stack of their own. Seeded: the simulators draw every fault from fixed
seeds, and the kill waits for a moment with no activity running, so its cost is a replay, never an activity
timeout.
"""

from __future__ import annotations

import pytest

from testkit.chaos import CHAOS_ENV, ChaosPlan, run_chaos
from testkit.checks import failed
from testkit.harness import Harness
from tests.fixtures.postgres import create_database

PLAN = ChaosPlan(
    generations=40,
    users=10,
    credits_per_user=2_000,
    start_seconds=4.0,
    worker_kills_at=[6.0],
    kill_when_quiet=True,
    postgres_restart_at=None,
    payments=5,
    seed=4242,
    settle_timeout=90.0,
    surge=30,
    surge_at=2.0,
    revoke_key_at=3.0,
    recipes=6,
)
# Every fault kind of `make chaos`, with create refusals halved: three refusals in a row cost 2 + 4 + 8 s of
# backoff, which would set this test's length; a lost callback's 30 s poll is kept, and sets it instead.
PLAN.kie |= {"create_429_share": 0.05, "create_5xx_share": 0.105, "latency": 0.8, "latency_jitter": 0.5}


@pytest.mark.timeout(150)
async def test_nothing_lost_nothing_twice(pg_server_url: str):
    # A fresh database on the session's PostgreSQL (no restart in the reduced plan), the rest of our own.
    _, database_url = await create_database(pg_server_url, "chaos")
    async with Harness.start(
        prefix="genflow-chaos-test-",
        kie_rate_limit_per_second=100,
        processes=("worker", "telegram-worker", "webhooks", "bot"),
        database_url=database_url,
        extra_env=CHAOS_ENV,
    ) as harness:
        run, checks, facts = await run_chaos(harness, PLAN, say=lambda _text: None)
    report = "\n".join(f"{c.status:7} {c.name}: {c.detail}" for c in checks)
    assert not failed(checks), f"{report}\nfacts: {facts}"
    assert len(run.kills) == 1
    # Every recipe closed; the two the plan made fail at their video step (seed 4242) did.
    assert sum(facts["recipes"].values()) == PLAN.recipes and facts["recipes"].get("failed", 0) >= 2, facts
    assert facts["payments"]["successful_payment_updates_delivered"] > facts["payments"]["payments"] > 0
    # The faults really happened.
    stats = facts["kie_stats"]
    assert stats.get("create_refused_500", 0) + stats.get("create_refused_429", 0) > 0, stats
    assert stats.get("callbacks_lost", 0) and stats.get("callbacks_duplicated", 0), stats
    assert facts["telegram_faults_injected"] > 0
