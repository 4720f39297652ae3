"""A bot fuzz's report: what was sent and answered, the bot's log (errors, warnings by logger), its memory and
the money, counted from the run."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit.bot_fuzz.forged_buttons import REFUSAL_NOTICES
from testkit.bot_fuzz.state import Run
from testkit.checks import Check


@dataclass
class BotFuzzReport:
    updates: int
    categories: dict[str, int]
    cases: dict[str, int]
    steps: dict[str, int]
    update_types: dict[str, int]
    expected: dict[str, int]
    answered: dict[str, int]
    unanswered: list[dict[str, Any]]
    log_errors: list[str]
    log_warnings: dict[str, int]
    money: dict[str, Any]
    rss_before_mb: float
    rss_after_mb: float
    alive: bool
    seconds: float
    updates_per_second: float
    refusals: int = 0  # forged buttons naming nothing, answered
    not_refused: list[dict[str, Any]] = field(default_factory=list)  # ... without a refusal notice
    checks: list[Check] = field(default_factory=list)


_LEVEL = re.compile(r"^\d\d:\d\d:\d\d (ERROR|CRITICAL|WARNING)\s+\S+ (\S+):")


def read_log(path: Path, offset: int) -> tuple[list[str], dict[str, int]]:
    """ERROR/CRITICAL lines, tracebacks and aiogram's "Cause exception" after ``offset``; warnings by
    logger."""
    if not path.exists():
        return ["no bot log"], {}
    with path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    errors: list[str] = []
    warnings: dict[str, int] = {}
    for line in text.splitlines():
        match = _LEVEL.match(line)
        if match and match.group(1) == "WARNING":
            warnings[match.group(2)] = warnings.get(match.group(2), 0) + 1
        elif match or "Traceback (most recent call last)" in line or "Cause exception" in line:
            errors.append(line[:300])
    return errors, warnings


def _count(items: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return dict(sorted(counts.items()))


def build_report(
    run: Run,
    money: dict[str, Any],
    errors: list[str],
    warnings: dict[str, int],
    rss_before: float,
    rss_after: float,
    alive: bool,
    began: float,
    sent_seconds: float,
) -> BotFuzzReport:
    sent = run.sent
    expecting = [s for s in sent if s.expect]
    unanswered = [
        {
            "user": s.user,
            "category": s.category,
            "case": s.case,
            "step": s.step,
            "kind": s.kind,
            "update_id": s.update_id,
        }
        for s in expecting
        if not s.answered
    ]
    refusals = [s for s in sent if s.refusal and s.answered]
    not_refused = [
        {"case": f"{s.category}/{s.case}", "data": s.data, "notice": notice}
        for s in refusals
        if (notice := run.watch.callback_texts.get(s.query_id or "", "")) not in REFUSAL_NOTICES
    ]
    return BotFuzzReport(
        updates=len(sent),
        categories=_count([s.category for s in sent]),
        cases=_count([f"{s.category}/{s.case}" for s in sent]),
        steps=dict(sorted(run.steps.items())),
        update_types=_count([s.kind for s in sent]),
        expected=_count([s.expect or "" for s in expecting]),
        answered=_count([s.expect or "" for s in expecting if s.answered]),
        unanswered=unanswered,
        log_errors=errors,
        log_warnings=warnings,
        money=money,
        rss_before_mb=round(rss_before, 1),
        rss_after_mb=round(rss_after, 1),
        alive=alive,
        seconds=round(time.monotonic() - began, 1),
        updates_per_second=round(len(sent) / max(sent_seconds, 1e-9), 1),
        refusals=len(refusals),
        not_refused=not_refused,
    )
