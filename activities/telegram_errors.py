"""Telegram's errors as Temporal retry decisions: one mapping for every activity that calls the Bot API.

- 429 (``TelegramRetryAfter``): retry after exactly ``retry_after`` seconds;
- 5xx and network errors: retry with the activity's backoff (a timed-out send may have been delivered);
- 413 (``TelegramEntityTooLarge``, a subclass of the network error!): not ours to retry, the caller falls
  back (upload → document → link), so it passes through;
- everything else (400, 403, migrations) is the caller's to handle: it passes through.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

from aiogram.exceptions import (
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from temporalio.exceptions import ApplicationError

RETRY_AFTER = "TelegramRetryAfter"
UNAVAILABLE = "TelegramUnavailable"


def flood_control(err: TelegramRetryAfter) -> ApplicationError:
    return ApplicationError(
        "Telegram flood control", type=RETRY_AFTER, next_retry_delay=timedelta(seconds=err.retry_after)
    )


def unavailable(err: TelegramServerError | TelegramNetworkError) -> ApplicationError:
    return ApplicationError(f"Telegram unavailable: {err.message}", type=UNAVAILABLE)


@contextlib.contextmanager
def retryable_telegram_errors() -> Iterator[None]:
    """Turn Telegram's transient errors into retryable activity errors; let the others through."""
    try:
        yield
    except TelegramRetryAfter as err:
        raise flood_control(err) from err
    except TelegramEntityTooLarge:
        raise
    except (TelegramServerError, TelegramNetworkError) as err:
        raise unavailable(err) from err
