"""The admin panel, for the users in ``ADMIN_IDS`` only.

Everyone else never learns it exists: the router's filter lets their ``/admin`` (and any forged ``adm:``
button) fall through to the fallback, which answers exactly as it answers any unknown command.

    /admin                                       statistics (today, 7 days) and the panel
    /admin user <id>                             balance, holds, generations, payments, movements
    /admin adjust <id> <±credits> <reason>        credit or debit, after a confirmation
    /admin refund_gen <generation id> <reason>    return what a finished generation was charged
    /admin refund_topup <charge id> <reason>      refund a Stars payment (refused when the credits are spent)
    /admin stuck                                 generations waiting longer than their format's usual time
    /admin drift                                 models KIE refused as invalid; the catalog vs KIE's docs
    /admin reply <id> <text>                      answer a /paysupport question

The same actions are reachable by buttons (a user's card, then the reason as a message). Every action that
moves money is a workflow whose input names the admin and the reason; its activities write ``admin_actions``.
The bot starts it after the admin confirmed the exact amount and the reason, and shows its result:

    AdjustCreditsWorkflow      admin-adjust-<admin id>-<confirmation key>
    RefundGenerationWorkflow   admin-refund-gen-<generation id>
    RefundTopUpWorkflow        admin-refund-topup-<charge id>

Ids are reused on purpose (``ALLOW_DUPLICATE`` once closed, ``USE_EXISTING`` while running): asking twice runs
the workflow again and it answers "already done" (the ledger's keys keep every movement once), and a refusal
(credits already spent) can be retried after, say, an adjustment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.types import TelegramObject

from bot.admin import commands, panel
from bot.services import Services
from bot.states import AdminStates
from contracts.buttons import AdminAction, AdminOp


class IsAdmin(Filter):
    async def __call__(self, event: TelegramObject, services: Services) -> bool:
        user = getattr(event, "from_user", None)
        return user is not None and services.is_admin(user.id)


def router() -> Router:
    r = Router(name="admin")
    r.message.filter(IsAdmin())
    r.callback_query.filter(IsAdmin())
    r.message.register(commands.admin_command, Command("admin"))
    on: dict[AdminOp, Callable[..., Awaitable[object]]] = {
        AdminOp.PANEL: panel.panel,
        AdminOp.STUCK: panel.stuck,
        AdminOp.DRIFT: panel.catalog_drift,
        AdminOp.FIND: panel.ask_user,
        AdminOp.USER: panel.user,
        AdminOp.ADJUST: panel.ask_adjustment,
        AdminOp.REFUND_GENERATION: panel.ask_refund_reason,
        AdminOp.REFUND_TOP_UP: panel.ask_refund_reason,
        AdminOp.CONFIRM: panel.confirmed,
        AdminOp.DROP: panel.dropped,
    }
    for op, handler in on.items():
        r.callback_query.register(handler, AdminAction.filter(F.op == op))
    typed = F.text & ~F.text.startswith("/")
    r.message.register(panel.got_user_id, AdminStates.user, typed)
    r.message.register(panel.got_adjustment, AdminStates.adjust, typed)
    r.message.register(panel.got_reason, AdminStates.reason, typed)
    return r
