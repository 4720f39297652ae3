"""The admin panel, for the users in ``ADMIN_IDS`` only.

Everyone else never learns it exists: the router's filter lets their ``/admin`` (and any forged ``adm:``
button) fall through to the fallback, which answers exactly as it answers any unknown command.

    /admin                                       statistics (today, 7 days) and the panel
    /admin user <id>                             balance, holds, generations, payments, movements
    /admin adjust <id> <±credits> <reason>        credit or debit, after a confirmation
    /admin refund_gen <generation id> <reason>    return what a finished generation was charged
    /admin refund_topup <charge id> <reason>      refund a Stars payment (refused when the credits are spent)
    /admin stuck                                 generations waiting longer than their format's usual time
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

import asyncio
import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from bot import admin_stats, views
from bot.keyboards import Rows, button, home_row, markup
from bot.routers.balance import movement_line
from bot.services import Services
from bot.states import AdminStates
from catalog import UnknownFormat
from contracts.money import (
    AdjustCreditsRequest,
    AdminResult,
    RefundGenerationRequest,
    RefundTopUpRequest,
)
from genflow.i18n import translate
from workflows.admin import AdjustCreditsWorkflow, RefundGenerationWorkflow, RefundTopUpWorkflow

MAX_ID = 2**63 - 1  # a PostgreSQL bigint
ADMIN_WAIT = 20.0  # seconds to wait for an admin workflow's result before pointing at the Temporal UI
MAX_ADJUSTMENT = 1_000_000
MAX_REASON = 500

PANEL = "adm:panel"
FIND = "adm:find"
STUCK = "adm:stuck"
NO = "adm:no"
USER = "adm:u:"  # <user id>
ADJUST = "adm:adj:"  # <user id>
REFUND_GEN = "adm:rg:"  # <user id>:<ref>
REFUND_TOPUP = "adm:rt:"  # <user id>:<ref>
GO = "adm:ok:"  # <confirmation key>

PENDING = "admin_pending"  # FSM data: the action on the confirmation card
TARGET = "admin_target"  # FSM data: what the next message (a reason, an amount) is for

STATUS_MARKS = {
    "succeeded": "✅",
    "failed": "❌",
    "cancelled": "✖️",
    "rejected": "🚫",
    "running": "⏳",
    "pending": "🕓",
}


class IsAdmin(Filter):
    async def __call__(self, event: TelegramObject, services: Services) -> bool:
        user = getattr(event, "from_user", None)
        return user is not None and services.is_admin(user.id)


def router() -> Router:
    r = Router(name="admin")
    r.message.filter(IsAdmin())
    r.callback_query.filter(IsAdmin())
    r.message.register(admin_command, Command("admin"))
    r.callback_query.register(panel, F.data == PANEL)
    r.callback_query.register(stuck, F.data == STUCK)
    r.callback_query.register(ask_user, F.data == FIND)
    r.callback_query.register(user_button, F.data.startswith(USER))
    r.callback_query.register(ask_adjustment, F.data.startswith(ADJUST))
    r.callback_query.register(ask_refund_reason, F.data.startswith(REFUND_GEN))
    r.callback_query.register(ask_refund_reason, F.data.startswith(REFUND_TOPUP))
    r.callback_query.register(confirmed, F.data.startswith(GO))
    r.callback_query.register(dropped, F.data == NO)
    typed = F.text & ~F.text.startswith("/")
    r.message.register(got_user_id, AdminStates.user, typed)
    r.message.register(got_adjustment, AdminStates.adjust, typed)
    r.message.register(got_reason, AdminStates.reason, typed)
    return r


def parse_id(text: str) -> int | None:
    """A user id typed by the admin or carried by a button: ASCII digits that fit a bigint, else None.
    (``str.isdigit`` also passes "²" and "①", which ``int`` refuses; PostgreSQL refuses ids past 2**63.)"""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        return None
    return int(text)


def ref(value: str) -> str:
    """A short stand-in for an id in callback data (charge ids may not fit in 64 bytes)."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def usage() -> str:
    return "\n".join(
        [
            _("Admin commands:"),
            _("/admin — statistics and the panel"),
            _("/admin user <id> — a user's balance, generations and payments"),
            _("/admin adjust <id> <±credits> <reason> — credit or debit a user"),
            _("/admin refund_gen <generation id> <reason> — return what a generation was charged"),
            _("/admin refund_topup <charge id> <reason> — refund a Stars payment"),
            _("/admin stuck — generations waiting longer than usual"),
            _("/admin reply <id> <text> — answer a /paysupport question"),
        ]
    )


def back_rows(user_id: int | None = None) -> Rows:
    row = [button(_("⬅️ Admin"), PANEL), *home_row()]
    if user_id is not None:
        row.insert(0, button(_("👤 User {user}").format(user=user_id), f"{USER}{user_id}"))
    return [row]


# ---- /admin and its subcommands ----------------------------------------------------------------------------


async def admin_command(
    message: Message, command: CommandObject, state: FSMContext, services: Services, lang: str
) -> None:
    assert message.from_user is not None
    words = (command.args or "").split(maxsplit=1)
    sub, rest = (words[0].lower(), words[1] if len(words) > 1 else "") if words else ("", "")
    if sub == "":
        await state.clear()
        await views.show(message, await panel_screen(services, lang))
    elif sub == "user" and (target_id := parse_id(rest)) is not None:
        await views.show(message, await user_screen(services, target_id, lang))
    elif sub == "stuck":
        await views.show(message, await stuck_screen(services, lang))
    elif sub == "adjust":
        if (args := _id_and_text(rest)) is None:
            await message.answer(usage())
            return
        await adjustment(message, state, services, args[0], args[1], lang)
    elif sub == "refund_gen":
        target, reason = _split(rest)
        record = await services.generations.get(target) if target else None
        if record is None:
            await message.answer(_("No such generation: {id}").format(id=target or "—"))
            return
        await propose(
            message, state, services, _refund_gen(record.user_id, record.id, record.price), reason, lang
        )
    elif sub == "refund_topup":
        target, reason = _split(rest)
        payment = await services.payments.get(target) if target else None
        if payment is None:
            await message.answer(_("No such payment: {id}").format(id=target or "—"))
            return
        action = _refund_topup(
            payment.user_id, payment.telegram_payment_charge_id, payment.stars, payment.credits
        )
        await propose(message, state, services, action, reason, lang)
    elif sub == "reply":
        if (args := _id_and_text(rest)) is None:
            await message.answer(usage())
            return
        await reply_to_user(message, services, args[0], args[1].strip())
    else:
        await message.answer(usage(), reply_markup=markup(back_rows()))


def _id_and_text(rest: str) -> tuple[int, str] | None:
    """``<user id> <text>`` of an admin command, or None when either is missing or the id is not one."""
    parts = rest.split(maxsplit=1)
    user_id = parse_id(parts[0]) if parts else None
    return (user_id, parts[1]) if len(parts) == 2 and user_id is not None else None


def _split(rest: str) -> tuple[str, str]:
    parts = rest.split(maxsplit=1)
    return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")


# ---- the panel: statistics ---------------------------------------------------------------------------------


async def panel(callback: CallbackQuery, state: FSMContext, services: Services, lang: str) -> None:
    await state.clear()
    await views.show(callback, await panel_screen(services, lang))


async def panel_screen(services: Services, lang: str) -> views.Screen:
    now = dt.datetime.now(dt.UTC)
    today = await admin_stats.period_stats(services.pool, admin_stats.start_of_day(now))
    week = await admin_stats.period_stats(services.pool, now - dt.timedelta(days=7))
    parts = [
        _("🛠 Admin"),
        render_period(_("Today (since 00:00 UTC)"), today, services, lang),
        render_period(_("Last 7 days"), week, services, lang),
    ]
    actions = await services.audit.recent(3)
    if actions:
        lines = [_("Recent admin actions:")]
        for action in actions:
            lines.append(
                f"• {action['created_at']:%d.%m %H:%M} · {action['action']} {action['target']} · "
                f"{action['outcome']} · {action['admin_id']} · {action['reason']}"
            )
        parts.append("\n".join(lines))
    rows = [
        [button(_("👤 Find a user"), FIND), button(_("⏳ Waiting too long"), STUCK)],
        [button(_("🔄 Refresh"), PANEL), *home_row()],
    ]
    return "\n\n".join(parts), markup(rows)


def _statuses(counts: dict[str, int]) -> str:
    shown = [s for s in admin_stats.GENERATION_STATUSES if counts.get(s)]
    return " · ".join(f"{STATUS_MARKS[s]} {counts[s]}" for s in shown) or "—"


def render_period(title: str, stats: admin_stats.PeriodStats, services: Services, lang: str) -> str:
    lines = [
        title,
        _("Generations: {count}").format(count=stats.generation_count)
        + (f" ({_statuses(stats.by_status())})" if stats.generation_count else ""),
    ]
    for format_id, counts in sorted(stats.generations.items()):
        lines.append(f"• {_format_title(services, format_id, lang)}: {_statuses(counts)}")
    lines += [
        _("Credits charged: {credits}").format(credits=stats.charged),
        _("Refunds of generations: {count} ({credits} credits)").format(
            count=stats.refunds, credits=stats.refunded
        ),
        _("Released holds (nothing charged): {credits} credits").format(credits=stats.released),
        _("Top-ups: {count} · {stars} ⭐ → {credits} credits").format(
            count=stats.topups, stars=stats.topup_stars, credits=stats.topup_credits
        ),
        _("Stars refunded: {count} · {stars} ⭐").format(
            count=stats.topup_refunds, stars=stats.topup_refund_stars
        ),
    ]
    return "\n".join(lines)


def _format_title(services: Services, format_id: str, lang: str) -> str:
    try:
        return services.catalog.format(format_id).title_for(lang)
    except UnknownFormat:  # a format since removed from the catalog
        return format_id


# ---- generations waiting too long -----------------------------------------------------------------------


async def stuck(callback: CallbackQuery, services: Services, lang: str) -> None:
    await views.show(callback, await stuck_screen(services, lang))


def duration(seconds: float) -> str:
    if seconds < 120:
        return _("{n} s").format(n=int(seconds))
    if seconds < 7200:
        return _("{n} min").format(n=int(seconds // 60))
    return _("{n} h").format(n=round(seconds / 3600, 1))


async def stuck_screen(services: Services, lang: str) -> views.Screen:
    waiting = await admin_stats.waiting_too_long(services.pool, services.catalog)
    if not waiting:
        text = _("Nothing is waiting longer than usual.")
    else:
        lines = [_("⏳ Waiting longer than usual: {count}").format(count=len(waiting))]
        for number, item in enumerate(waiting, start=1):
            lines += [
                "",
                f"{number}. {item.id} · {item.model_id} · {item.stage} · "
                + _("waiting {age} (usual {usual})").format(
                    age=duration(item.age_seconds), usual=duration(item.usual_seconds)
                )
                + " · "
                + _("user {user}").format(user=item.user_id),
                services.temporal_link(item.id),
            ]
        text = "\n".join(lines)
    rows = [[button(_("🔄 Refresh"), STUCK)], *back_rows()]
    return text, markup(rows)


# ---- one user ----------------------------------------------------------------------------------------------


async def ask_user(callback: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(AdminStates.user)
    await views.show(callback, (_("Send the user's Telegram id."), markup(back_rows())))


async def got_user_id(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    user_id = parse_id(message.text or "")
    if user_id is None:
        await message.answer(_("A Telegram user id is a number. Send it again, or /cancel."))
        return
    await state.clear()
    await views.show(message, await user_screen(services, user_id, lang))


def out_of_date(callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is out of date. Open /menu to start again.")


async def user_button(
    callback: CallbackQuery, state: FSMContext, services: Services, lang: str, callback_answer: CallbackAnswer
) -> None:
    user_id = parse_id((callback.data or "").removeprefix(USER))
    if user_id is None:
        return out_of_date(callback_answer)
    await state.set_state(None)
    await views.show(callback, await user_screen(services, user_id, lang))


async def user_screen(services: Services, user_id: int, lang: str) -> views.Screen:
    user = await services.ledger.get_user(user_id)
    if user is None:
        return _("No user {user} in the database.").format(user=user_id), markup(back_rows())
    account = await services.ledger.balance(user_id)
    holds = await admin_stats.open_holds(services.pool, user_id)
    generations = await services.generations.recent_for_user(user_id, limit=5)
    payments = await admin_stats.recent_payments(services.pool, user_id, limit=5)
    movements = await services.ledger.recent_movements(user_id, limit=8)

    lines = [
        _("👤 User {user} · language {language} · since {date}").format(
            user=user_id, language=user.language or "—", date=f"{user.created_at:%d.%m.%Y}"
        )
    ]
    if user.referrer_id is not None:
        lines.append(_("Invited by {user}").format(user=user.referrer_id))
    lines.append(
        _("Balance: {balance} · held: {held} · available: {available}").format(
            balance=account.balance, held=account.held, available=account.available
        )
    )
    lines.append(_("Open holds: {count}").format(count=len(holds)))
    lines += [f"• {hold.hold_key} · {hold.amount}" for hold in holds]
    rows: Rows = [[button(_("➕➖ Adjust credits"), f"{ADJUST}{user_id}")]]
    if generations:
        lines += ["", _("Last generations:")]
        for number, record in enumerate(generations, start=1):
            price = _("free") if record.free else views.credits(record.price, lang)
            lines.append(f"{number}. {record.id} · {record.model_id} · {record.status} · {price}")
            if record.status == "succeeded" and not record.free and record.price > 0:
                label = _("↩️ Refund generation {number}").format(number=number)
                rows.append([button(label, f"{REFUND_GEN}{user_id}:{ref(record.id)}")])
    if payments:
        lines += ["", _("Payments:")]
        for number, payment in enumerate(payments, start=1):
            lines.append(
                f"{number}. {payment.telegram_payment_charge_id} · {payment.stars} ⭐ → "
                f"{views.credits(payment.credits, lang)} · {payment.status} · "
                f"{payment.created_at:%d.%m %H:%M}"
            )
            if payment.status == "credited":
                label = _("↩️ Refund top-up {number}").format(number=number)
                rows.append(
                    [button(label, f"{REFUND_TOPUP}{user_id}:{ref(payment.telegram_payment_charge_id)}")]
                )
    if movements:
        lines += ["", _("Recent movements:")] + [movement_line(m) for m in movements]
    rows.append([button(_("🔄 Refresh"), f"{USER}{user_id}")])
    rows += back_rows()
    return "\n".join(lines), markup(rows)


# ---- asking for the amount and the reason -----------------------------------------------------------------


async def ask_adjustment(
    callback: CallbackQuery, state: FSMContext, services: Services, lang: str, callback_answer: CallbackAnswer
) -> None:
    user_id = parse_id((callback.data or "").removeprefix(ADJUST))
    if user_id is None:
        return out_of_date(callback_answer)
    account = await services.ledger.balance(user_id)
    await state.set_state(AdminStates.adjust)
    await state.set_data({TARGET: {"user_id": user_id}})
    text = "\n".join(
        [
            _("Adjust the credits of user {user} (available: {available}).").format(
                user=user_id, available=account.available
            ),
            _("Send the amount and the reason in one message, for example:"),
            _("+100 compensation for a failed video"),
            _("-50 duplicate top-up"),
            "",
            _("/cancel to stop."),
        ]
    )
    await views.show(callback, (text, markup(back_rows(user_id))))


ADJUSTMENT = re.compile(r"^\s*([+-]?\d{1,9})(?:\s+(.*))?$", re.DOTALL)


async def got_adjustment(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    target = (await state.get_data()).get(TARGET) or {}
    if "user_id" not in target:
        await state.clear()
        await message.answer(usage())
        return
    await adjustment(message, state, services, int(target["user_id"]), message.text or "", lang)


async def adjustment(
    message: Message, state: FSMContext, services: Services, user_id: int, text: str, lang: str
) -> None:
    """``<±amount> <reason>`` for ``user_id``: the confirmation card, or what is wrong with the message."""
    match = ADJUSTMENT.match(text)
    if match is None:
        await message.answer(_("Send the amount first, then the reason, e.g. +100 compensation."))
        return
    amount, reason = int(match.group(1)), (match.group(2) or "").strip()
    if amount == 0 or abs(amount) > MAX_ADJUSTMENT:
        await message.answer(
            _("The amount must be between 1 and {max} credits, with + or −.").format(max=MAX_ADJUSTMENT)
        )
        return
    if not reason:
        await message.answer(
            _("A reason is required: send the amount and the reason, e.g. +100 compensation.")
        )
        return
    if await services.ledger.get_user(user_id) is None:
        await message.answer(_("No user {user} in the database.").format(user=user_id))
        return
    await propose(
        message, state, services, {"kind": "adjust", "user_id": user_id, "amount": amount}, reason, lang
    )


def _refund_gen(user_id: int, generation_id: str, price: int) -> dict[str, Any]:
    return {"kind": "refund_gen", "user_id": user_id, "target": generation_id, "amount": price}


def _refund_topup(user_id: int, charge_id: str, stars: int, credits: int) -> dict[str, Any]:
    return {
        "kind": "refund_topup",
        "user_id": user_id,
        "target": charge_id,
        "stars": stars,
        "credits": credits,
    }


async def ask_refund_reason(
    callback: CallbackQuery,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    data = callback.data or ""
    kind = "refund_gen" if data.startswith(REFUND_GEN) else "refund_topup"
    user_part, _sep, wanted = data.removeprefix(REFUND_GEN).removeprefix(REFUND_TOPUP).partition(":")
    user_id = parse_id(user_part)
    action: dict[str, Any] | None = None
    if user_id is not None and kind == "refund_gen":
        records = await services.generations.recent_for_user(user_id, limit=50)
        record = next((r for r in records if ref(r.id) == wanted), None)
        if record is not None:
            action = _refund_gen(user_id, record.id, record.price)
            text = _("Refund generation {generation} ({model}) of user {user}: {amount} back.").format(
                generation=record.id,
                model=record.model_id,
                user=user_id,
                amount=views.credits(record.price, lang),
            )
    elif user_id is not None:
        payments = await admin_stats.recent_payments(services.pool, user_id, limit=50)
        payment = next((p for p in payments if ref(p.telegram_payment_charge_id) == wanted), None)
        if payment is not None:
            action = _refund_topup(
                user_id, payment.telegram_payment_charge_id, payment.stars, payment.credits
            )
            text = _("Refund the Stars payment {charge} of user {user}: {stars} ⭐, {credits}.").format(
                charge=payment.telegram_payment_charge_id,
                user=user_id,
                stars=payment.stars,
                credits=views.credits(payment.credits, lang),
            )
    if action is None:
        callback_answer.text = _("This button is out of date. Open /menu to start again.")
        return
    await state.set_state(AdminStates.reason)
    await state.set_data({TARGET: action})
    prompt = "\n".join([text, _("Send the reason in one message."), "", _("/cancel to stop.")])
    await views.show(callback, (prompt, markup(back_rows(user_id))))


async def got_reason(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    action = (await state.get_data()).get(TARGET)
    if not action or action.get("kind") not in ("refund_gen", "refund_topup"):
        await state.clear()
        await message.answer(usage())
        return
    await propose(message, state, services, action, message.text or "", lang)


# ---- confirmation and the workflow ------------------------------------------------------------------------


async def propose(
    message: Message, state: FSMContext, services: Services, action: dict[str, Any], reason: str, lang: str
) -> None:
    """The confirmation card: the exact amount and the reason; nothing starts before Confirm."""
    reason = " ".join(reason.split())
    if not reason:
        await message.answer(_("A reason is required. Send it in one message, or /cancel."))
        return
    if len(reason) > MAX_REASON:
        await message.answer(_("The reason is too long: up to {max} characters.").format(max=MAX_REASON))
        return
    pending = {**action, "reason": reason, "key": secrets.token_hex(6)}
    await state.set_state(None)
    await state.set_data({PENDING: pending})
    await views.show(message, confirmation_screen(pending, lang))


def confirmation_screen(pending: dict[str, Any], lang: str) -> views.Screen:
    kind, user = pending["kind"], pending["user_id"]
    if kind == "adjust":
        head = _("Adjust the credits of user {user}: {amount} credits.").format(
            user=user, amount=f"{pending['amount']:+d}"
        )
    elif kind == "refund_gen":
        head = _(
            "Refund generation {generation} of user {user}: {amount} credits back to their balance."
        ).format(generation=pending["target"], user=user, amount=pending["amount"])
    else:
        head = _(
            "Refund the Stars payment {charge} of user {user}: {stars} ⭐ back to the user, "
            "{credits} credits taken back from their balance."
        ).format(charge=pending["target"], user=user, stars=pending["stars"], credits=pending["credits"])
    text = "\n".join([head, _("Reason: {reason}").format(reason=pending["reason"]), "", _("Confirm?")])
    rows = [[button(_("✅ Confirm"), GO + pending["key"]), button(_("✖️ Cancel"), NO)], *back_rows(user)]
    return text, markup(rows)


async def dropped(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await views.show(callback, (_("Cancelled: nothing was done."), markup(back_rows())))


async def confirmed(
    callback: CallbackQuery,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    pending = (await state.get_data()).get(PENDING)
    if not pending or pending.get("key") != (callback.data or "").removeprefix(GO):
        callback_answer.text = _("This button is out of date. Open /menu to start again.")
        return
    # Answered now: the workflow may take a few seconds.
    callback_answer.disable()
    await callback.answer(_("Working on it…"))
    workflow_id, result, failure = await run_action(services, callback.from_user.id, pending)
    text = outcome_text(pending, result, failure, lang) + "\n\n" + services.temporal_link(workflow_id)
    await views.show(callback, (text, markup(back_rows(pending["user_id"]))))


async def run_action(
    services: Services, admin_id: int, pending: dict[str, Any]
) -> tuple[str, AdminResult | None, str | None]:
    """Start (or attach to) the action's workflow; its id, its result (None: still running) or a failure."""
    kind, reason = pending["kind"], pending["reason"]
    if kind == "adjust":
        workflow_id = f"admin-adjust-{admin_id}-{pending['key']}"
        run: Any = AdjustCreditsWorkflow.run
        arg: Any = AdjustCreditsRequest(
            admin_id=admin_id,
            user_id=pending["user_id"],
            amount=pending["amount"],
            reason=reason,
            request_key=pending["key"],
        )
        summary = f"admin {admin_id}: adjust {pending['amount']:+d} for user {pending['user_id']}"
    elif kind == "refund_gen":
        workflow_id = f"admin-refund-gen-{pending['target']}"
        run = RefundGenerationWorkflow.run
        arg = RefundGenerationRequest(admin_id=admin_id, generation_id=pending["target"], reason=reason)
        summary = f"admin {admin_id}: refund generation {pending['target']}"
    else:
        workflow_id = f"admin-refund-topup-{pending['target']}"
        run = RefundTopUpWorkflow.run
        arg = RefundTopUpRequest(admin_id=admin_id, charge_id=pending["target"], reason=reason)
        summary = f"admin {admin_id}: refund top-up of user {pending['user_id']}"
    handle = await services.temporal.start_workflow(
        run,
        arg,
        id=workflow_id,
        task_queue=services.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=summary,
        result_type=AdminResult,
    )
    try:
        result = await asyncio.wait_for(handle.result(), ADMIN_WAIT)
    except TimeoutError:
        return workflow_id, None, None
    except WorkflowFailureError as error:
        return workflow_id, None, str(error.cause or error)
    return workflow_id, result, None


SHORTFALL = re.compile(r"(\d+) credits short")


def outcome_text(pending: dict[str, Any], result: AdminResult | None, failure: str | None, lang: str) -> str:
    kind, user = pending["kind"], pending["user_id"]
    if failure is not None:
        return _("⚠️ The workflow failed: {error}").format(error=failure)
    if result is None:
        return _("⏳ Still running. Follow it in the Temporal UI:")
    if result.outcome == "already_done":
        return _("☑️ Already done before: nothing was moved again.")
    if result.outcome == "unknown":
        return _("❓ Not found: {detail}").format(detail=result.detail or "—")
    if result.outcome == "refused":
        shortfall = SHORTFALL.search(result.detail or "")
        if kind == "refund_topup" and shortfall:
            return _(
                "⛔ Refused: the user has already spent these credits, {shortfall} credits short. "
                "No Stars were refunded. Balances never go negative: adjust first if you still want "
                "to refund."
            ).format(shortfall=shortfall.group(1))
        return _("⛔ Refused: {detail}").format(detail=result.detail or "—")
    available = "—" if result.balance_after is None else str(result.balance_after)
    if kind == "adjust":
        return _("✅ Done: {amount} credits for user {user}. Available now: {available}.").format(
            amount=f"{pending['amount']:+d}", user=user, available=available
        )
    if kind == "refund_gen":
        return _("✅ Done: {amount} credits returned to user {user}. Available now: {available}.").format(
            amount=result.amount, user=user, available=available
        )
    return _(
        "✅ Done: {stars} ⭐ refunded to user {user}, {credits} credits taken back. "
        "Available now: {available}."
    ).format(stars=pending["stars"], user=user, credits=result.amount, available=available)


# ---- answering a /paysupport question ---------------------------------------------------------------------


async def reply_to_user(message: Message, services: Services, user_id: int, text: str) -> None:
    assert message.bot is not None
    user = await services.ledger.get_user(user_id)
    lang = user.language if user and user.language else "en"
    try:
        await message.bot.send_message(user_id, translate("💬 Support: {answer}", lang, answer=text))
    except TelegramAPIError as error:
        await message.answer(_("Not delivered: {error}").format(error=error.message))
        return
    await message.answer(
        _("Sent to user {user}.").format(user=user_id), reply_markup=markup(back_rows(user_id))
    )
