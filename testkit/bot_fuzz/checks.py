"""What must hold after a bot fuzz: every update that expects an answer got one, forged buttons that name
nothing were refused with a notice, nothing raised, the bot alive, forged payments declined and no money moved
but by real payments, memory flat, every required step reached."""

from __future__ import annotations

from testkit.bot_fuzz.plan import REQUIRED_STEPS, BotFuzzPlan
from testkit.bot_fuzz.report import BotFuzzReport
from testkit.bot_fuzz.state import Run
from testkit.checks import Check, passed_if


def checks(r: BotFuzzReport, plan: BotFuzzPlan, run: Run) -> list[Check]:
    expected, answered = sum(r.expected.values()), sum(r.answered.values())
    money = r.money
    missing_steps = [
        s for s in REQUIRED_STEPS if not r.steps.get(s) and (run.admin or not s.startswith("admin:"))
    ]
    growth = r.rss_after_mb - r.rss_before_mb
    return [
        passed_if(
            "every update that expects an answer got one",
            expected > 0 and not r.unanswered,
            f"{answered} of {expected} answered (messages {r.answered.get('message', 0)}/"
            f"{r.expected.get('message', 0)}, callback queries {r.answered.get('callback', 0)}/"
            f"{r.expected.get('callback', 0)}, pre-checkout queries {r.answered.get('pre_checkout', 0)}/"
            f"{r.expected.get('pre_checkout', 0)}); {r.updates - expected} need no answer; "
            f"{money.get('pending_updates_left', 0)} left undelivered"
            + (f"; unanswered e.g. {r.unanswered[:3]}" if r.unanswered else ""),
        ),
        passed_if(
            "forged buttons that name nothing are refused with a notice",
            r.refusals > 0 and not r.not_refused,
            f"{r.refusals - len(r.not_refused)} of {r.refusals} refused ('out of date', 'form closed', ...)"
            + (f"; otherwise e.g. {r.not_refused[:3]}" if r.not_refused else ""),
        ),
        passed_if(
            "no unhandled exception in the bot's log",
            not r.log_errors,
            f"{len(r.log_errors)} error line(s)"
            + (f", e.g. {r.log_errors[:2]}" if r.log_errors else "")
            + f"; warnings by logger {r.log_warnings}",
        ),
        passed_if("bot process alive", r.alive, "alive" if r.alive else "DEAD"),
        passed_if(
            "forged payments: declined, nothing credited",
            not money["forged_approved"]
            and money["forged_pre_checkouts"] + money["forged_successful_payments"] > 0,
            f"{money['forged_pre_checkouts']} forged pre-checkout queries, "
            f"{len(money['forged_approved'])} approved; {money['forged_successful_payments']} forged "
            f"successful_payment updates; genuine pre-checkouts approved {money['genuine_approved']}/"
            f"{money['genuine_pre_checkouts']}",
        ),
        passed_if(
            "no money moved but by real payments",
            not money["unexplained_count"] and not money["invariant_violations"],
            f"{money['ledger_entries']} ledger entries of fuzz users, "
            f"{money['real_payments']} real payment(s); "
            f"{money['unexplained_count']} unexplained {money['unexplained_entries'][:2]}; "
            f"invariant violations {len(money['invariant_violations'])}; credits {money['credits_before']} → "
            f"{money['credits_after']}",
        ),
        passed_if(
            "bot memory flat",
            growth <= plan.rss_margin_mb,
            f"RSS {r.rss_before_mb} → {r.rss_after_mb} MB after the warm-up (margin {plan.rss_margin_mb} MB)",
        ),
        passed_if(
            "every step fuzzed",
            not missing_steps,
            f"{len(r.steps)} steps: {r.steps}"
            + (f"; never reached {missing_steps}" if missing_steps else ""),
        ),
    ]
