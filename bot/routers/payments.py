"""Top-ups with Telegram Stars, and the invitation link.

Top up → a package → an invoice (XTR, one price, no tips, no provider token) whose payload is a signed order
reference (``billing/orders.py``): issuing it writes nothing. The pre-checkout query is answered here, in the
bot process, well within Telegram's 10 seconds: ok only for our own, unexpired order of this user at the
package's current price. The successful payment starts ``TopUpWorkflow`` (id ``topup-<charge id>``: every
copy of the update is the same workflow); the workflow credits the payment and tells the user, so the bot
says nothing here.
"""

from __future__ import annotations

import enum
import logging
import time
from urllib.parse import quote

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from billing import Package, make_order_reference, read_order_reference
from bot import views
from bot.keyboards import button, home_row, markup, menu_button
from bot.services import Services
from contracts.buttons import BuyPackage, Menu, MenuTarget
from contracts.money import TopUpRequest
from workflows.starter import start_topup

log = logging.getLogger(__name__)
CURRENCY = "XTR"


def router() -> Router:
    r = Router(name="payments")
    r.message.register(top_up, Command("topup"))
    r.callback_query.register(top_up, Menu.filter(F.to == MenuTarget.TOP_UP))
    r.callback_query.register(buy, BuyPackage.filter())
    r.pre_checkout_query.register(pre_checkout)
    r.message.register(paid, F.successful_payment)
    r.message.register(refunded, F.refunded_payment)
    r.message.register(invite, Command("invite"))
    r.callback_query.register(invite, Menu.filter(F.to == MenuTarget.INVITE))
    return r


# ---- the packages and the invoice --------------------------------------------------------------------------


def best_value(packages: list[Package]) -> Package | None:
    """The package with the most credits per Star, when there is a choice."""
    if len(packages) < 2:
        return None
    return max(packages, key=lambda p: (p.credits / p.stars, p.credits))


async def top_up(event: Message | CallbackQuery, services: Services, lang: str) -> None:
    assert event.from_user is not None
    account = await services.ledger.balance(event.from_user.id)
    packages = services.packages.package
    best = best_value(packages)
    text = "\n\n".join(
        [
            _("💳 Top up"),
            _("Credits are topped up with Telegram Stars ⭐, paid right here in Telegram."),
            _("Available now: {available}").format(available=views.credits(account.available, lang)),
            _("Choose a package:"),
            _("Questions about a payment: /paysupport"),
        ]
    )
    rows = []
    for package in packages:
        label = f"⭐ {package.stars} → {views.credits(package.credits, lang)}"
        if package is best:
            label += " · " + _("best value")
        rows.append([button(label, BuyPackage(package=package.id))])
    rows += [
        [
            menu_button(_("💰 Balance"), MenuTarget.BALANCE),
            menu_button(_("🎁 Invite friends"), MenuTarget.INVITE),
        ],
        home_row(),
    ]
    await views.show(event, (text, markup(rows)))


async def buy(
    callback: CallbackQuery,
    callback_data: BuyPackage,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    package = services.packages.get(callback_data.package)
    secret = services.order_secret
    if package is None or secret is None:
        callback_answer.text = _("This button is out of date. Open /menu to start again.")
        return
    user_id = callback.from_user.id
    expires_at = int(time.time()) + services.settings.payments_order_ttl_seconds
    title = _("{credits} for Genflow").format(credits=views.credits(package.credits, lang))
    description = _(
        "{credits} for images, videos and music in this bot. Paid with {stars} Telegram Stars; "
        "the credits arrive as soon as the payment goes through."
    ).format(credits=views.credits(package.credits, lang), stars=package.stars)
    chat_id = callback.message.chat.id if callback.message else user_id
    assert callback.bot is not None
    await callback.bot.send_invoice(
        chat_id,
        title=title[:32],
        description=description[:255],
        payload=make_order_reference(secret, package.id, user_id, expires_at),
        currency=CURRENCY,
        prices=[LabeledPrice(label=views.credits(package.credits, lang), amount=package.stars)],
    )


# ---- pre-checkout: validated here, in the bot process --------------------------------------------------


class OrderProblem(enum.Enum):
    NOT_OURS = "not ours"  # no valid signature: tampered with or made up
    UNKNOWN_PACKAGE = "unknown package"
    PRICE_CHANGED = "price changed"
    WRONG_CURRENCY = "wrong currency"
    OTHER_USER = "other user"
    EXPIRED = "expired"


def check_order(
    services: Services, payload: str, total_amount: int, currency: str, user_id: int, now: float
) -> OrderProblem | None:
    """None when the payment may go through: our order, for this user, unexpired, at the current price."""
    secret = services.order_secret
    order = read_order_reference(secret, payload) if secret is not None else None
    if order is None:
        return OrderProblem.NOT_OURS
    if currency != CURRENCY:
        return OrderProblem.WRONG_CURRENCY
    if order.user_id != user_id:
        return OrderProblem.OTHER_USER
    package = services.packages.get(order.package_id)
    if package is None:
        return OrderProblem.UNKNOWN_PACKAGE
    if total_amount != package.stars:
        return OrderProblem.PRICE_CHANGED
    if order.expires_at < now:
        return OrderProblem.EXPIRED
    return None


def problem_message(problem: OrderProblem) -> str:
    """What the user sees in Telegram's payment form; in the user's language."""
    if problem is OrderProblem.OTHER_USER:
        return _(
            "This invoice was issued to another Telegram account. Open Top up in your own chat with the bot."
        )
    if problem is OrderProblem.EXPIRED:
        return _("This invoice has expired. Open Top up for a new one.")
    if problem is OrderProblem.PRICE_CHANGED:
        return _("The price of this package has changed. Open Top up and pay the new invoice.")
    if problem is OrderProblem.UNKNOWN_PACKAGE:
        return _("This package is no longer available. Open Top up and choose another one.")
    return _("This invoice is not valid. Open Top up for a new one.")


async def pre_checkout(query: PreCheckoutQuery, services: Services) -> None:
    problem = check_order(
        services, query.invoice_payload, query.total_amount, query.currency, query.from_user.id, time.time()
    )
    if problem is None:
        await query.answer(ok=True)
        return
    log.info("pre-checkout refused: %s", problem.value, extra={"user_id": query.from_user.id})
    await query.answer(ok=False, error_message=problem_message(problem))


# ---- the payment went through ----------------------------------------------------------------------------


async def paid(message: Message, services: Services, lang: str) -> None:
    """Start (or attach to) the top-up workflow. No reply: the workflow tells the user the new balance."""
    payment = message.successful_payment
    assert payment is not None and message.from_user is not None
    request = TopUpRequest(
        user_id=message.from_user.id,
        chat_id=message.chat.id,
        charge_id=payment.telegram_payment_charge_id,
        total_amount=payment.total_amount,
        currency=payment.currency,
        invoice_payload=payment.invoice_payload,
        language="ru" if lang == "ru" else "en",
        source="update",
    )
    handle = await start_topup(services.temporal, request, task_queue=services.task_queue)
    log.info("top-up started", extra={"workflow_id": handle.id})


async def refunded(message: Message) -> None:
    """Telegram's note that Stars were refunded: the refund workflow already told whom it concerns."""


# ---- invitations -----------------------------------------------------------------------------------------


async def invite(event: Message | CallbackQuery, services: Services) -> None:
    assert event.from_user is not None and event.bot is not None
    code = await services.referrals.code_for(event.from_user.id)
    me = await event.bot.me()
    link = f"https://t.me/{me.username}?start=ref_{code}"
    text = "\n\n".join(
        [
            _("🎁 Invite friends"),
            _(
                "Share your link. When a friend who joined with it tops up, you get {percent}% of the "
                "credits they buy, every time."
            ).format(percent=services.packages.referral_bonus_percent),
            _("Your link:") + "\n" + link,
        ]
    )
    share = InlineKeyboardButton(text=_("📤 Share"), url=f"https://t.me/share/url?url={quote(link, safe='')}")
    rows = [[share], [menu_button(_("💰 Balance"), MenuTarget.BALANCE)], home_row()]
    await views.show(event, (text, markup(rows)))
