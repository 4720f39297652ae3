"""The admin panel's screens: statistics, generations waiting too long, a user's file, a confirmation."""

from __future__ import annotations

import datetime as dt

from aiogram.utils.i18n import gettext as _

from bot import views
from bot.admin import stats
from bot.admin.actions import PendingAction
from bot.admin.refs import ref
from bot.keyboards import Rows, button, home_row, markup
from bot.routers.balance import movement_line
from bot.services import Services
from catalog import UnknownFormat
from contracts.buttons import AdminAction, AdminOp

STATUS_MARKS = {
    "succeeded": "✅",
    "failed": "❌",
    "cancelled": "✖️",
    "rejected": "🚫",
    "running": "⏳",
    "pending": "🕓",
}


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
            _("/admin drift — models KIE refused, and the catalog against KIE's documentation"),
            _("/admin reply <id> <text> — answer a /paysupport question"),
        ]
    )


def back_rows(user_id: int | None = None) -> Rows:
    row = [button(_("⬅️ Admin"), AdminAction(op=AdminOp.PANEL)), *home_row()]
    if user_id is not None:
        row.insert(
            0, button(_("👤 User {user}").format(user=user_id), AdminAction(op=AdminOp.USER, user=user_id))
        )
    return [row]


# ---- statistics -----------------------------------------------------------------------------------------


async def panel(services: Services, lang: str) -> views.Screen:
    now = dt.datetime.now(dt.UTC)
    today = await stats.period_stats(services.pool, stats.start_of_day(now))
    week = await stats.period_stats(services.pool, now - dt.timedelta(days=7))
    parts = [
        _("🛠 Admin"),
        _period(_("Today (since 00:00 UTC)"), today, services, lang),
        _period(_("Last 7 days"), week, services, lang),
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
        [
            button(_("👤 Find a user"), AdminAction(op=AdminOp.FIND)),
            button(_("⏳ Waiting too long"), AdminAction(op=AdminOp.STUCK)),
        ],
        [button(_("🧭 Catalog drift"), AdminAction(op=AdminOp.DRIFT))],
        [button(_("🔄 Refresh"), AdminAction(op=AdminOp.PANEL)), *home_row()],
    ]
    return "\n\n".join(parts), markup(rows)


def _statuses(counts: dict[str, int]) -> str:
    shown = [s for s in stats.GENERATION_STATUSES if counts.get(s)]
    return " · ".join(f"{STATUS_MARKS[s]} {counts[s]}" for s in shown) or "—"


def _period(title: str, period: stats.PeriodStats, services: Services, lang: str) -> str:
    lines = [
        title,
        _("Generations: {count}").format(count=period.generation_count)
        + (f" ({_statuses(period.by_status())})" if period.generation_count else ""),
    ]
    for format_id, counts in sorted(period.generations.items()):
        lines.append(f"• {_format_title(services, format_id, lang)}: {_statuses(counts)}")
    lines += [
        _("Credits charged: {credits}").format(credits=period.charged),
        _("Refunds of generations: {count} ({credits} credits)").format(
            count=period.refunds, credits=period.refunded
        ),
        _("Released holds (nothing charged): {credits} credits").format(credits=period.released),
        _("Top-ups: {count} · {stars} ⭐ → {credits} credits").format(
            count=period.topups, stars=period.topup_stars, credits=period.topup_credits
        ),
        _("Stars refunded: {count} · {stars} ⭐").format(
            count=period.topup_refunds, stars=period.topup_refund_stars
        ),
    ]
    return "\n".join(lines)


def _format_title(services: Services, format_id: str, lang: str) -> str:
    try:
        return services.catalog.format(format_id).title_for(lang)
    except UnknownFormat:  # a format since removed from the catalog
        return format_id


# ---- generations waiting too long -----------------------------------------------------------------------


def duration(seconds: float) -> str:
    if seconds < 120:
        return _("{n} s").format(n=int(seconds))
    if seconds < 7200:
        return _("{n} min").format(n=int(seconds // 60))
    return _("{n} h").format(n=round(seconds / 3600, 1))


async def stuck(services: Services) -> views.Screen:
    waiting = await stats.waiting_too_long(services.pool, services.catalog)
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
    rows = [[button(_("🔄 Refresh"), AdminAction(op=AdminOp.STUCK))], *back_rows()]
    return text, markup(rows)


# ---- one user ----------------------------------------------------------------------------------------------


async def user(services: Services, user_id: int, lang: str) -> views.Screen:
    found = await services.ledger.get_user(user_id)
    if found is None:
        return _("No user {user} in the database.").format(user=user_id), markup(back_rows())
    account = await services.ledger.balance(user_id)
    holds = await stats.open_holds(services.pool, user_id)
    generations = await services.generations.recent_for_user(user_id, limit=5)
    payments = await stats.recent_payments(services.pool, user_id, limit=5)
    movements = await services.ledger.recent_movements(user_id, limit=8)

    lines = [
        _("👤 User {user} · language {language} · since {date}").format(
            user=user_id, language=found.language or "—", date=f"{found.created_at:%d.%m.%Y}"
        )
    ]
    if found.referrer_id is not None:
        lines.append(_("Invited by {user}").format(user=found.referrer_id))
    lines.append(
        _("Balance: {balance} · held: {held} · available: {available}").format(
            balance=account.balance, held=account.held, available=account.available
        )
    )
    lines.append(_("Open holds: {count}").format(count=len(holds)))
    lines += [f"• {hold.hold_key} · {hold.amount}" for hold in holds]
    rows: Rows = [[button(_("➕➖ Adjust credits"), AdminAction(op=AdminOp.ADJUST, user=user_id))]]
    if generations:
        lines += ["", _("Last generations:")]
        for number, record in enumerate(generations, start=1):
            price = _("free") if record.free else views.credits(record.price, lang)
            lines.append(f"{number}. {record.id} · {record.model_id} · {record.status} · {price}")
            if record.status == "succeeded" and not record.free and record.price > 0:
                label = _("↩️ Refund generation {number}").format(number=number)
                refund = AdminAction(op=AdminOp.REFUND_GENERATION, user=user_id, ref=ref(record.id))
                rows.append([button(label, refund)])
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
                charge = ref(payment.telegram_payment_charge_id)
                rows.append([button(label, AdminAction(op=AdminOp.REFUND_TOP_UP, user=user_id, ref=charge))])
    if movements:
        lines += ["", _("Recent movements:")] + [movement_line(m) for m in movements]
    rows.append([button(_("🔄 Refresh"), AdminAction(op=AdminOp.USER, user=user_id))])
    rows += back_rows()
    return "\n".join(lines), markup(rows)


# ---- the confirmation card --------------------------------------------------------------------------------


def confirmation(action: PendingAction) -> views.Screen:
    if action.kind == "adjust":
        head = _("Adjust the credits of user {user}: {amount} credits.").format(
            user=action.user_id, amount=f"{action.amount:+d}"
        )
    elif action.kind == "refund_gen":
        head = _(
            "Refund generation {generation} of user {user}: {amount} credits back to their balance."
        ).format(generation=action.target, user=action.user_id, amount=action.amount)
    else:
        head = _(
            "Refund the Stars payment {charge} of user {user}: {stars} ⭐ back to the user, "
            "{credits} credits taken back from their balance."
        ).format(charge=action.target, user=action.user_id, stars=action.stars, credits=action.credits)
    text = "\n".join([head, _("Reason: {reason}").format(reason=action.reason), "", _("Confirm?")])
    rows = [
        [
            button(_("✅ Confirm"), AdminAction(op=AdminOp.CONFIRM, ref=action.key)),
            button(_("✖️ Cancel"), AdminAction(op=AdminOp.DROP)),
        ],
        *back_rows(action.user_id),
    ]
    return text, markup(rows)
