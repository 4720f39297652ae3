"""What the bot's handlers use, in one object passed through the dispatcher's workflow data (``services``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import quote

import asyncpg
from temporalio.client import Client

from billing import Packages, load_packages
from bot.storage import BotStore
from catalog import Catalog, get_catalog
from contracts.models import QueuePlace
from db import AdminAudit, Generations, Ledger, Payments, Referrals, SubmitQueue
from genflow.settings import Settings


@dataclass
class Services:
    """Read-only access to the ledger, generations and payments, the catalog and the Stars packages, and
    Temporal to start workflows. The bot never moves money itself: workflows do."""

    settings: Settings
    temporal: Client
    pool: asyncpg.Pool
    catalog: Catalog
    ledger: Ledger
    generations: Generations
    store: BotStore
    packages: Packages
    payments: Payments
    referrals: Referrals
    audit: AdminAudit
    queue: SubmitQueue
    # Most used models, per replica: menu order only, so a few minutes' staleness costs nothing.
    _uses: tuple[float, dict[str, int]] = field(default=(0.0, {}), repr=False)

    @classmethod
    def create(
        cls,
        settings: Settings,
        temporal: Client,
        pool: asyncpg.Pool,
        catalog: Catalog | None = None,
        packages: Packages | None = None,
    ) -> Services:
        return cls(
            settings=settings,
            temporal=temporal,
            pool=pool,
            catalog=catalog or get_catalog(),
            ledger=Ledger(pool),
            generations=Generations(pool),
            store=BotStore(pool),
            packages=packages or load_packages(),
            payments=Payments(pool),
            referrals=Referrals(pool),
            audit=AdminAudit(pool),
            queue=SubmitQueue(pool),
        )

    async def model_uses(self, max_age_seconds: float = 300) -> dict[str, int]:
        """Generations per model over the last 30 days, cached for ``max_age_seconds``."""
        at, uses = self._uses
        if time.monotonic() - at > max_age_seconds:
            uses = await self.generations.uses_by_model()
            self._uses = (time.monotonic(), uses)
        return uses

    async def queue_wait(self, user_id: int) -> float | None:
        """The estimated wait in the KIE queue for one more generation, when long enough to warn about."""
        place = await self.queue.place_for_new(user_id, paid_weight=self.settings.queue_paid_weight)
        return place.wait_seconds if place.wait_seconds > self.settings.queue_warn_seconds else None

    async def queue_place(self, user_id: int) -> QueuePlace | None:
        """The place one more generation would take, when it would wait long enough to be told so."""
        place = await self.queue.place_for_new(user_id, paid_weight=self.settings.queue_paid_weight)
        if place.wait_seconds < self.settings.queue_status_min_interval_seconds:
            return None
        return QueuePlace(ahead=place.ahead, queued=place.queued + 1, wait_seconds=place.wait_seconds)

    @property
    def task_queue(self) -> str:
        return self.settings.temporal_task_queue

    @property
    def order_secret(self) -> str | None:
        secret = self.settings.callback_secret
        return secret.get_secret_value() if secret is not None else None

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.settings.admin_ids

    def temporal_link(self, workflow_id: str) -> str:
        """The workflow in the Temporal UI."""
        base = str(self.settings.temporal_ui_url).rstrip("/")
        namespace = quote(self.settings.temporal_namespace, safe="")
        return f"{base}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"
