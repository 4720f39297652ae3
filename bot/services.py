"""What the bot's handlers use, in one object passed through the dispatcher's workflow data (``services``)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio.client import Client

from bot.storage import BotStore
from catalog import Catalog, get_catalog
from db import Generations, Ledger
from genflow.settings import Settings


@dataclass
class Services:
    """Read-only access to the ledger and generations, the catalog, and Temporal to start and cancel."""

    settings: Settings
    temporal: Client
    pool: asyncpg.Pool
    catalog: Catalog
    ledger: Ledger
    generations: Generations
    store: BotStore

    @classmethod
    def create(
        cls, settings: Settings, temporal: Client, pool: asyncpg.Pool, catalog: Catalog | None = None
    ) -> Services:
        return cls(
            settings=settings,
            temporal=temporal,
            pool=pool,
            catalog=catalog or get_catalog(),
            ledger=Ledger(pool),
            generations=Generations(pool),
            store=BotStore(pool),
        )

    @property
    def task_queue(self) -> str:
        return self.settings.temporal_task_queue
