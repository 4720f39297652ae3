"""Task queues, all derived from the workflow's own queue so workers and workflows agree without config.

- ``<queue>``: workflows and the activities that touch only PostgreSQL or KIE's status endpoint.
- ``<queue>-kie``: KIE submits, rate-limited server-side to the account's limit across every worker.
- ``<queue>-telegram``: every activity that calls the Telegram Bot API, served by ``telegram_worker.py``.
  It holds aiogram (≈160 MB per process), so the worker that caches waiting workflows does not, and Telegram's
  bot-wide message limit is enforced server-side like KIE's.
"""

from __future__ import annotations


def kie_task_queue(task_queue: str) -> str:
    return f"{task_queue}-kie"


def telegram_task_queue(task_queue: str) -> str:
    return f"{task_queue}-telegram"
