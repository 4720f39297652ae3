"""How each kind of workflow step is retried: one place for every workflow's policies.

Money must move: its steps retry until they succeed (bounded by each call's schedule_to_close), never give
up after N attempts. Best-effort messages give up soon: they never hold a generation back.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Steps that touch only PostgreSQL or ask KIE one question (most run as local activities).
QUICK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
MONEY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
KIE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=1)
)
STATUS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)
# Polling a waiting generation's KIE tasks: "still running" sets its own delay (contracts.polling); this
# paces KIE being unreachable, until the generation's deadline (the activity's schedule_to_close).
POLL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=30), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)
)
UPLOAD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=5)
DELIVER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=2))
# A generation's status message: best effort, quickly given up (the result itself is what counts).
STATUS_MESSAGE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
# A notice about money (credited, refunded): a little more patience.
NOTICE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)
TELEGRAM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=10
)
ALERT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5))
# A check that runs again on its schedule anyway.
SCHEDULED_CHECK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=5)
