"""Getting updates: long polling, or a webhook the simulator posts to."""

from __future__ import annotations

import re
import time

from ..errors import ApiError, bad_request
from ..models import JSON, Webhook
from .registry import Ctx, api_method

MAX_POLL_TIMEOUT = 50  # seconds, like Telegram's cap
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@api_method("getUpdates")
async def get_updates(ctx: Ctx) -> list[JSON]:
    state = ctx.state
    if state.webhook is not None:
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first")  # fmt: skip
    limit = min(max(ctx.params.get_int("limit") or 100, 1), 100)
    timeout = min(max(ctx.params.get_int("timeout") or 0, 0), MAX_POLL_TIMEOUT)
    allowed = ctx.params.get_json("allowed_updates")
    if allowed is not None:  # remembered for later calls, as in Telegram
        state.allowed_updates = list(allowed)
    # A newer getUpdates ends an older one still waiting: two pollers mean two bot instances.
    state.poll_generation += 1
    generation = state.poll_generation
    state.notifier.notify()
    state.confirm_updates(ctx.params.get_int("offset"))
    deadline = time.monotonic() + timeout
    while True:
        if state.poll_generation != generation:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                "make sure that only one bot instance is running")  # fmt: skip
        batch = state.deliverable_updates(state.allowed_updates, limit)
        remaining = deadline - time.monotonic()
        if batch or remaining <= 0 or state.notifier.closed or state.webhook is not None:
            return [update.to_api() for update in batch]
        await state.notifier.wait(remaining)


@api_method("setWebhook")
async def set_webhook(ctx: Ctx) -> bool:
    state = ctx.state
    url = ctx.params.get_str("url") or ""
    if not url:
        return await delete_webhook(ctx)
    if not url.startswith(("http://", "https://")):  # real Telegram insists on https; a local sim can't
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = ctx.params.get_str("secret_token")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if ctx.params.get_bool("drop_pending_updates"):
        state.updates.clear()
    allowed = ctx.params.get_json("allowed_updates")
    hook = Webhook(
        url=url,
        token=ctx.token,
        secret_token=secret,
        allowed_updates=list(allowed) if allowed is not None else None,
        max_connections=ctx.params.get_int("max_connections") or 40,
    )
    current = state.webhook
    if current is not None and (current.url, current.secret_token) == (url, secret):
        # Every replica of a bot sets the same webhook at start: deliveries in progress carry on.
        current.token, current.allowed_updates = hook.token, hook.allowed_updates
        current.max_connections = hook.max_connections
        if not ctx.engine.webhooks.running:
            ctx.engine.webhooks.restart()
    else:
        state.webhook = hook
        ctx.engine.webhooks.restart()
    state.notifier.notify()  # a waiting getUpdates learns it lost to the webhook
    return True


@api_method("deleteWebhook")
async def delete_webhook(ctx: Ctx) -> bool:
    state = ctx.state
    if ctx.params.get_bool("drop_pending_updates"):
        state.updates.clear()
    state.webhook = None
    ctx.engine.webhooks.stop_soon()
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(ctx: Ctx) -> JSON:
    state = ctx.state
    hook = state.webhook
    if hook is None:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(state.updates)}
    return hook.info(len(state.deliverable_updates(hook.allowed_updates, 10**9)))
