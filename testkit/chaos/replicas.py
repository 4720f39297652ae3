"""Disruptions of a replicated stack (``ChaosPlan.replicas`` > 1): one replica of each kind SIGKILLed at a
time (the others carry on; the killed one comes back), the Temporal server restarted on its database file,
and the link between the load balancer and one bot replica dropped."""

from __future__ import annotations

import asyncio
import time

from testkit.chaos.plan import ChaosPlan, Run
from testkit.chat_user import ChatUser
from testkit.harness import Harness

KINDS = ("worker", "telegram-worker", "webhooks", "bot")
CUT = "bot-1"  # the replica behind the cuttable link (Harness links)


async def kill_one_of_each(h: Harness, run: Run, say) -> None:
    """SIGKILL replica n of every kind at once (n takes turns between kills), then start each again."""
    turn = sum(run.replica_kills.values()) // len(KINDS)
    names = []
    for kind in KINDS:
        replicas = h.replicas_of(kind)
        if replicas:
            names.append(replicas[turn % len(replicas)])
            run.replica_kills[kind] = run.replica_kills.get(kind, 0) + 1
    at = time.time() - run.began
    await asyncio.gather(*(asyncio.to_thread(h.stack.restart, name, kill=True) for name in names))
    await asyncio.gather(*(h.wait_ready(name) for name in names))  # serving again before the next kill
    run.kills.append(at)
    say(f"SIGKILLed {', '.join(names)} at +{at:.1f} s; back after {time.time() - run.began - at:.1f} s")


async def restart_temporal(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    """The Temporal server stops and starts again on its SQLite file: waiting generations must survive it."""
    down = time.time()
    await asyncio.to_thread(h.stack.restart_temporal, plan.temporal_down_seconds)
    up = time.time()
    run.temporal_down.append((down - run.began, up - run.began))
    say(f"Temporal server down from +{down - run.began:.1f} s to +{up - run.began:.1f} s")


async def cut_bot_link(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    """Open connections between nginx and bot-1 reset, new ones refused, for ``link_cut_seconds``, while a
    user keeps chatting: the form walkers may all be waiting for their results then, and a cut that meets
    no update shows nothing."""
    user = ChatUser(h, await h.new_user(credits=0), within=60.0)
    run.users.append(user.id)
    link = h.links[CUT]
    link.cut(plan.link_cut_seconds)
    run.link_cuts.append(time.time() - run.began)
    say(f"link nginx → {CUT} cut at +{run.link_cuts[-1]:.1f} s for {plan.link_cut_seconds:.0f} s")
    while link.down:
        await user.send("/menu")  # handled (by the replica nginx fell back to) before the next
        run.cut_updates += 1
        await asyncio.sleep(0.2)
