"""A short webhook fuzz inside `make test`: 500 hostile requests, no signal, no 5xx, the process unharmed.

`make chaos` runs the same generator with 5,000 requests (testkit/webhook_fuzz/). The bot's fuzz is
tests/fuzz/test_bot_fuzz.py (testkit/bot_fuzz/).
"""

from __future__ import annotations

import pytest

from testkit.harness import Harness
from testkit.webhook_fuzz import FuzzPlan, FuzzReport, run_fuzz
from tests.fixtures.system import System


@pytest.fixture(scope="module")
async def report(system: System) -> FuzzReport:
    async with Harness.attach(system.stack) as harness:
        return await run_fuzz(harness, FuzzPlan(requests=500, seed=11, warmup=100, rss_margin_mb=10.0))


@pytest.mark.timeout(120)
async def test_hostile_callbacks_signal_nothing(report: FuzzReport):
    checks = {c.name: c for c in report.checks}
    for name in ("zero signals from hostile requests", "nothing accepted", "webhook process alive"):
        assert checks[name].status == "PASS", checks[name]
    assert checks["webhook memory flat"].status == "PASS", checks["webhook memory flat"]
    assert set(report.categories) >= {"forged_token", "malformed_body", "replayed", "wrong_signature"}


async def test_no_request_gets_a_5xx(report: FuzzReport):
    # Deep nesting, integers too long to parse and broken gzip bodies once reached the catch-all (503).
    assert not report.server_5xx, report.server_5xx
