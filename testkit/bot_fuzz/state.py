"""The state a bot fuzz run shares between its users."""

from __future__ import annotations

import asyncio
import re

from billing import load_packages
from catalog import get_catalog
from testkit.bot_fuzz.plan import BotFuzzPlan
from testkit.bot_fuzz.watch import CallWatch, Sent
from testkit.harness import Harness


class Run:
    """What every fuzz user shares: the update budget, the steps reached, buttons and keys seen on screens."""

    def __init__(self, h: Harness, plan: BotFuzzPlan, watch: CallWatch) -> None:
        self.h = h
        self.plan = plan
        self.watch = watch
        self.catalog = get_catalog()
        self.packages = load_packages()
        self.secret = h.secret("callback")
        self.sent: list[Sent] = []
        self.steps: dict[str, int] = {}
        self.budget = plan.updates
        self.users: list[int] = []
        self.payers: set[int] = set()
        self.other_buttons: list[str] = []  # callback data seen on any user's screens
        self.request_keys: dict[int, str] = {}  # user -> the request key of their latest confirmation card
        self.invite_codes: dict[int, str] = {}
        self.warm = asyncio.Event()
        self.stop = False
        self.admin = _admin_id(h)

    def take(self) -> bool:
        if self.budget <= 0:
            return False
        self.budget -= 1
        if len(self.sent) >= self.plan.updates * self.plan.warmup_share:
            self.warm.set()
        return True

    def visit(self, step: str) -> None:
        self.steps[step] = self.steps.get(step, 0) + 1


def _admin_id(h: Harness) -> int | None:
    ids = [int(x) for x in re.findall(r"\d+", h.stack.env.get("ADMIN_IDS", ""))]
    return ids[0] if ids else None
