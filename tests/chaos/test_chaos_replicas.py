"""The reduced replicated chaos run inside `make test`: two of every process behind nginx, the Temporal
server on its database file. One replica of each kind is SIGKILLed twice (taking turns), the Temporal server
and PostgreSQL restart, and the link between nginx and one bot replica drops, while generations, recipes and
users walking the bot's form run. The same checks as the single-replica run, plus: every Telegram update
delivered and handled exactly once across the bots, and every form found where the user left it.

The full run is `make chaos-replicas` (``python -m bench.chaos --replicas 2``).
"""

from __future__ import annotations

import pytest

from testkit.chaos import CHAOS_ENV, ChaosPlan, run_chaos
from testkit.chaos.plan import MEDIA_METHODS, REPLICA_PROCESSES, WALKER_ENV
from testkit.checks import failed
from testkit.harness import Harness

PLAN = ChaosPlan(
    generations=30,
    users=8,
    credits_per_user=2_000,
    start_seconds=12.0,
    worker_kills_at=[3.0, 10.0],
    postgres_restart_at=14.0,
    seed=5150,
    settle_timeout=150.0,
    surge=0,
    revoke_key_at=None,
    recipes=3,
    replicas=2,
    temporal_restarts_at=[7.0],
    link_cuts_at=[5.0],
    form_users=3,
    telegram_methods=MEDIA_METHODS,
)
PLAN.kie |= {"create_429_share": 0.05, "create_5xx_share": 0.105, "latency": 0.8, "latency_jitter": 0.5}


@pytest.mark.timeout(300)
async def test_nothing_lost_nothing_twice_on_two_replicas_of_everything():
    async with Harness.start(
        prefix="genflow-chaos-replicas-test-",
        kie_rate_limit_per_second=100,
        processes=REPLICA_PROCESSES,
        replicas=2,
        links=("bot-1",),
        extra_env=CHAOS_ENV | WALKER_ENV,
    ) as harness:
        run, checks, facts = await run_chaos(harness, PLAN, say=print)
        link = harness.links["bot-1"]
    report = "\n".join(f"{c.status:7} {c.name}: {c.detail}" for c in checks)
    assert not failed(checks), f"{report}\nfacts: {facts}"
    # The disruptions really happened.
    assert run.replica_kills == {"worker": 2, "telegram-worker": 2, "webhooks": 2, "bot": 2}
    assert len(run.temporal_down) == 1 and len(run.postgres_down) == 1 and len(run.link_cuts) == 1
    assert run.cut_updates > 0 and link.reset + link.refused > 0, "the cut met no connection"
    assert facts["bot_replicas_answering"] == 2 and facts["updates_delivered"] > 30, facts
