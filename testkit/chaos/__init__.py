"""Chaos (`make chaos`): generations under faults everywhere — nothing lost, nothing twice.

KIE refuses creates (5xx, 429), loses create answers (the task exists, the client never hears of it), fails
generations, duplicates, loses, delays and reorders callbacks; Telegram answers 429 with ``retry_after`` and
5xx, and one user has blocked the bot; the worker is SIGKILLed several times and PostgreSQL is restarted while
generations run. The stack has two KIE keys: a surge of generations arrives at once, and KIE revokes one key
in the middle of it (its in-flight tasks are refunded, the other key carries the rest). Afterwards every
check in :func:`testkit.chaos.checks.check` must hold; the table says which did not.

``python -m bench.chaos`` runs the full plan (and then both fuzzers, ``testkit.webhook_fuzz`` and
``testkit.bot_fuzz``, on the same stack); ``tests/chaos`` runs a reduced plan inside ``make test``.
"""

from testkit.chaos.checks import check
from testkit.chaos.plan import CHAOS_ENV, CHAOS_KIE_KEYS, MIX, ChaosPlan, Run
from testkit.chaos.runner import run_chaos

__all__ = ["CHAOS_ENV", "CHAOS_KIE_KEYS", "MIX", "ChaosPlan", "Run", "check", "run_chaos"]
