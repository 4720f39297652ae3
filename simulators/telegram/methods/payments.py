"""Telegram Stars: invoices, pre-checkout answers, refunds and the transaction list."""

from __future__ import annotations

import time

from ..errors import bad_request
from ..models import JSON, PreCheckout, StarPayment
from .common import send_as_bot, target_chat
from .registry import Ctx, api_method


def _invoice(ctx: Ctx) -> JSON:
    """Validate an invoice the way Telegram does for Stars (the only currency simulated)."""
    p = ctx.params
    title, description = p.get_str("title") or "", p.get_str("description") or ""
    payload = p.get_str("payload") or ""
    if not 1 <= len(title) <= 32:
        raise bad_request("TITLE_INVALID" if title else "title is empty")
    if not 1 <= len(description) <= 255:
        raise bad_request("DESCRIPTION_INVALID" if description else "description is empty")
    if not 1 <= len(payload.encode()) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID" if payload else "payload is empty")
    if p.get_str("currency") != "XTR" or p.get_str("provider_token"):
        # Fiat currencies need a payment provider: none exists here.
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    prices = p.get_json("prices")
    if not isinstance(prices, list) or len(prices) != 1 or p.get_int("max_tip_amount"):
        raise bad_request("STARS_INVOICE_INVALID")  # Stars: exactly one price, no tips
    amount = prices[0].get("amount")
    if not isinstance(amount, int) or amount <= 0:
        raise bad_request("STARS_INVOICE_INVALID")
    return {"title": title, "description": description, "payload": payload, "currency": "XTR",
            "total_amount": amount}  # fmt: skip


@api_method("sendInvoice")
async def send_invoice(ctx: Ctx) -> JSON:
    chat = target_chat(ctx)
    invoice = _invoice(ctx)
    shown = {key: invoice[key] for key in ("title", "description", "currency", "total_amount")}
    message = send_as_bot(ctx, chat, extra={"invoice": {**shown, "start_parameter": ""}})
    ctx.state.invoices[f"message:{chat.id}:{message.message_id}"] = invoice  # for the user's "Pay"
    return message.to_api()


@api_method("createInvoiceLink")
async def create_invoice_link(ctx: Ctx) -> str:
    invoice = _invoice(ctx)
    slug = ctx.state.token(20)
    ctx.state.invoices[f"link:{slug}"] = invoice
    return f"https://t.me/$sim{slug}"


@api_method("answerPreCheckoutQuery")
async def answer_pre_checkout_query(ctx: Ctx) -> bool:
    state = ctx.state
    query_id = ctx.params.get_str("pre_checkout_query_id", required=True) or ""
    query = state.pre_checkouts.get(query_id)
    if query is None or query.status != "pending":
        raise bad_request("QUERY_ID_INVALID")
    if time.monotonic() - query.created > ctx.engine.config.pre_checkout_timeout:
        query.status = "expired"  # the user saw the payment fail
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    ok = ctx.params.get_bool("ok")
    if not ok:
        message = ctx.params.get_str("error_message")
        if not message:
            raise bad_request("error_message is empty")
        query.status, query.error_message = "declined", message
        state.emit(query.user.id, "pre_checkout_answer", ok=False, error_message=message)
        return True
    query.status = "approved"
    state.emit(query.user.id, "pre_checkout_answer", ok=True)
    _complete_payment(ctx, query)
    return True


def _complete_payment(ctx: Ctx, query: PreCheckout) -> None:
    """The charge succeeds: the user's chat gets a successful_payment service message."""
    state = ctx.state
    charge_id = f"stxSIM{state.token(40)}"
    invoice = query.invoice
    payment = StarPayment(
        charge_id, query.user, invoice["total_amount"], invoice["payload"], int(time.time())
    )
    state.payments[charge_id] = payment
    state.star_transactions.append(
        {
            "id": charge_id,
            "amount": payment.amount,
            "date": payment.date,
            "source": {"type": "user", "transaction_type": "invoice_payment", "user": query.user.to_api(),
                       "invoice_payload": payment.payload},
        }
    )  # fmt: skip
    successful = {
        "currency": "XTR",
        "total_amount": payment.amount,
        "invoice_payload": payment.payload,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": "",
    }
    chat = state.private_chat(query.user)
    message = state.add_message(chat, "user", query.user.to_api(), extra={"successful_payment": successful})
    # Duplicates: the same message again under new update_ids (a bot must dedupe on the charge id).
    for _ in range(1 + query.duplicates):
        state.push_update("message", message.to_api())


@api_method("refundStarPayment")
async def refund_star_payment(ctx: Ctx) -> bool:
    state = ctx.state
    user_id = ctx.params.get_int("user_id", required=True)
    charge_id = ctx.params.get_str("telegram_payment_charge_id", required=True) or ""
    payment = state.payments.get(charge_id)
    if payment is None or payment.user.id != user_id:
        raise bad_request("CHARGE_ID_INVALID")
    if payment.refunded_date is not None:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    payment.refunded_date = int(time.time())
    state.star_transactions.append(
        {
            "id": charge_id,
            "amount": payment.amount,
            "date": payment.refunded_date,
            "receiver": {"type": "user", "transaction_type": "invoice_payment", "user": payment.user.to_api(),
                         "invoice_payload": payment.payload},
        }
    )  # fmt: skip
    return True


@api_method("getStarTransactions")
async def get_star_transactions(ctx: Ctx) -> JSON:
    offset = ctx.params.get_int("offset") or 0
    limit = ctx.params.get_int("limit")
    limit = 100 if limit is None else limit
    if not 1 <= limit <= 100:
        raise bad_request("LIMIT_INVALID")
    if offset < 0:
        raise bad_request("OFFSET_INVALID")
    # In chronological order, as the Bot API documents.
    return {"transactions": ctx.state.star_transactions[offset : offset + limit]}
