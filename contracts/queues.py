"""Task queues, all derived from the workflow's own queue so workers and workflows agree without config.

- ``<queue>``: workflows and the activities that touch only PostgreSQL or KIE's status endpoint.
- ``<queue>-kie``: KIE submits, dispatched fairly per user (fairness keys) at the rate every active KIE key
  allows together, server-side across every worker; each submit then takes a slot of one key (db.KieKeys).
- ``<queue>-telegram``: every activity that calls the Telegram Bot API, served by ``telegram_worker.py``.
  It holds aiogram (≈160 MB per process), so the worker that caches waiting workflows does not, and Telegram's
  bot-wide message limit is enforced server-side like KIE's.
"""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    """Which of the three queues serves an activity (see ``contracts.activities``)."""

    MAIN = "main"
    KIE = "kie"
    TELEGRAM = "telegram"

    def name_for(self, task_queue: str) -> str:
        """This queue's name next to the workflows' ``task_queue``."""
        return task_queue if self is Queue.MAIN else f"{task_queue}-{self.value}"


def kie_task_queue(task_queue: str) -> str:
    return Queue.KIE.name_for(task_queue)


def telegram_task_queue(task_queue: str) -> str:
    return Queue.TELEGRAM.name_for(task_queue)
