"""The admin panel through the real client against the whole stack: invisible to others; statistics checked
against the database; a user's file; adjustments and refunds as workflows, with a reason, each once; the
generations waiting too long with their Temporal UI links; payment support questions."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import pytest

from bot.admin.stats import start_of_day
from bot.app import set_commands
from contracts.buttons import (
    AdminAction,
    AdminOp,
    Menu,
    MenuTarget,
)
from contracts.ids import admin_adjust_id
from contracts.models import GenerationResult, Stage
from db import check_invariant
from tests.bot.conftest import Harness, User, buttons, new_user_id
from tests.bot.test_payments import pay
from tests.fixtures.buttons import unpacked
from workflows.generation import GenerationWorkflow

ADMIN = new_user_id()


@pytest.fixture
def bot_overrides() -> dict[str, Any]:
    return {"admin_ids": [ADMIN]}


async def admin(harness: Harness) -> User:
    user = await harness.user(credits=0, user_id=ADMIN)
    return user


async def confirm(user: User) -> str:
    """Tap Confirm on the newest confirmation card; the text that replaced the card."""
    data = await user.press_for(AdminAction, op=AdminOp.CONFIRM)
    assert await user.last_answer() == "Working on it…"
    message = await user.message_with(lambda b: b["callback_data"] == AdminAction(op=AdminOp.PANEL).pack())
    assert data.pack() not in [b["callback_data"] for b in buttons(message)]
    return message["text"]


async def generate(harness: Harness, user_id: int, prompt: str = "a lighthouse") -> GenerationResult:
    handle = await harness.system.generate(user_id, "google/nano-banana", {"prompt": prompt})
    return await asyncio.wait_for(handle.result(), 30)


async def test_others_get_the_unknown_command_answer_and_no_command_in_the_menu(harness: Harness):
    user = await harness.user()
    await user.send("/definitely_not_a_command")
    unknown = await user.last()
    for text in ("/admin", "/admin user 1", "/admin adjust 1 +100 why not"):
        await user.send(text)
        answer = await user.last()
        assert (answer["text"], answer["reply_markup"]) == (unknown["text"], unknown["reply_markup"])
    await user.tap(unknown["message_id"], "adm:panel", force=True)  # a forged admin button
    assert await user.last_answer() == "This button is out of date. Open /menu to start again."
    assert (
        await harness.system.pool.fetchval("SELECT count(*) FROM ledger_entries WHERE user_id = $1", user.id)
        == 1
    )

    # /admin is in the command menu of the admins' own chats only.
    after = max([c["seq"] for c in await harness.calls("setMyCommands")], default=0)
    await set_commands(harness.app.bot, [ADMIN])
    calls = await harness.calls("setMyCommands", after=after)
    for call in calls:
        names = [c["command"] for c in call["params"]["commands"]]
        scope = call["params"].get("scope") or {"type": "default"}
        assert ("admin" in names) == (scope == {"type": "chat", "chat_id": ADMIN}), call["params"]
    assert len(calls) == 4


async def test_statistics_match_the_database_and_a_users_file(harness: Harness):
    boss = await admin(harness)
    customer = await harness.user(credits=100)
    await generate(harness, customer.id)
    await pay(harness, customer, "s50")

    await boss.send("/admin")
    text = await boss.last_text()
    now = dt.datetime.now(dt.UTC)
    pool = harness.system.pool
    for since, title in (
        (start_of_day(now), "Today (since 00:00 UTC)"),
        (now - dt.timedelta(days=7), "Last 7 days"),
    ):
        section = next(part for part in text.split("\n\n") if part.startswith(title))
        generations = await pool.fetchval("SELECT count(*) FROM generations WHERE created_at >= $1", since)
        succeeded = await pool.fetchval(
            "SELECT count(*) FROM generations WHERE created_at >= $1 AND status = 'succeeded'", since
        )
        charged = await pool.fetchval(
            """SELECT coalesce(sum(amount), 0) FROM ledger_entries
               WHERE created_at >= $1 AND kind = 'charge' AND generation_id IS NOT NULL""",
            since,
        )
        topups = await pool.fetchrow(
            """SELECT count(*), coalesce(sum(stars), 0), coalesce(sum(credits), 0)
               FROM payments WHERE created_at >= $1""",
            since,
        )
        assert generations >= 1 and topups[0] >= 1
        assert f"Generations: {generations} (✅ {succeeded}" in section, section
        assert f"Credits charged: {charged}\n" in section
        assert f"Top-ups: {topups[0]} · {topups[1]} ⭐ → {topups[2]} credits" in section
        assert "• Text to image: ✅" in section

    await boss.press(AdminAction(op=AdminOp.FIND))
    await boss.send(str(customer.id))
    card = await boss.last_text()
    assert card.startswith(f"👤 User {customer.id} · language en")
    assert "Balance: 196 · held: 0 · available: 196" in card and "Open holds: 0" in card
    record = (await harness.system.generations.recent_for_user(customer.id))[0]
    assert f"1. {record.id} · google/nano-banana · succeeded · 4 credits" in card
    payment = await harness.app.services.payments.get(card.split("Payments:\n1. ")[1].split(" ·")[0])
    assert (
        payment is not None and payment.user_id == customer.id and " 50 ⭐ → 100 credits · credited" in card
    )
    assert "Recent movements:" in card and "+100 · top-up" in card
    await boss.send("/admin user 1")  # nobody
    assert await boss.last_text() == "No user 1 in the database."
    assert await check_invariant(pool) == []


async def test_adjustment_needs_a_reason_and_a_confirmation_and_happens_once(harness: Harness):
    boss = await admin(harness)
    customer = await harness.user(credits=100)
    await boss.send(f"/admin user {customer.id}")
    await boss.press(AdminAction(op=AdminOp.ADJUST, user=customer.id))
    await boss.send("+25")
    assert (await boss.last_text()).startswith("A reason is required")
    await boss.send("+25 goodwill for the outage")
    card = await boss.last()
    assert card["text"].startswith(
        f"Adjust the credits of user {customer.id}: +25 credits.\nReason: goodwill for the outage"
    )
    assert (await harness.system.ledger.balance(customer.id)).balance == 100  # nothing before Confirm
    key = next(
        found.ref
        for b in buttons(card)
        if (found := unpacked(b["callback_data"], AdminAction)) and found.op == AdminOp.CONFIRM
    )

    done = await confirm(boss)
    assert done.startswith(f"✅ Done: +25 credits for user {customer.id}. Available now: 125.")
    workflow_id = admin_adjust_id(ADMIN, key)
    assert f"http://localhost:8233/namespaces/default/workflows/{workflow_id}" in done
    # The same confirmation once more (a double tap, an old card): the workflow answers "already done".
    await boss.tap(card["message_id"], AdminAction(op=AdminOp.CONFIRM, ref=key), force=True)
    assert (await boss.last_text()).startswith("☑️ Already done before")
    assert (await harness.system.ledger.balance(customer.id)).balance == 125
    action = await harness.system.pool.fetchrow(
        "SELECT * FROM admin_actions WHERE workflow_id = $1", workflow_id
    )
    assert (action["admin_id"], action["action"], action["target"], action["reason"], action["outcome"]) == (
        ADMIN,
        "adjust",
        str(customer.id),
        "goodwill for the outage",
        "done",
    )
    adjustments = await harness.system.pool.fetchval(
        "SELECT count(*) FROM ledger_entries WHERE user_id = $1 AND kind = 'adjustment'", customer.id
    )
    assert adjustments == 1

    # A debit by command; more than available is refused by the workflow.
    await boss.send(f"/admin adjust {customer.id} -500 test of a refusal")
    assert "-500 credits" in await boss.last_text()
    assert (await confirm(boss)).startswith("⛔ Refused: only 125 credits available")
    assert await check_invariant(harness.system.pool) == []


async def test_refunds_of_a_generation_and_of_top_ups(harness: Harness):
    boss = await admin(harness)
    customer = await harness.user(credits=100)
    result = await generate(harness, customer.id)
    gid = result.generation_id

    # A generation, by the user's card and a reason; then again by command: one refund.
    await boss.send(f"/admin user {customer.id}")
    await boss.press_for(AdminAction, op=AdminOp.REFUND_GENERATION, user=customer.id)
    assert (await boss.last_text()).startswith(
        f"Refund generation {gid} (google/nano-banana) of user {customer.id}"
    )
    await boss.send("the picture was blurry")
    assert "Reason: the picture was blurry" in await boss.last_text()
    assert (await confirm(boss)).startswith(
        f"✅ Done: 4 credits returned to user {customer.id}. Available now: 100."
    )
    await boss.send(f"/admin refund_gen {gid} asked twice")
    assert (await confirm(boss)).startswith("☑️ Already done before")
    refunds = await harness.system.pool.fetchval(
        "SELECT count(*) FROM ledger_entries WHERE generation_id = $1 AND kind = 'refund'", gid
    )
    assert refunds == 1
    told = [m for m in await customer.bot_messages() if (m["text"] or "").startswith("💸 4 credits")]
    assert len(told) == 1

    # A Stars top-up, twice: one reversal, the Stars back once.
    charge = await pay(harness, customer, "s50")
    assert (await harness.system.ledger.balance(customer.id)).available == 200
    for attempt in range(2):
        await boss.send(f"/admin refund_topup {charge} the user asked")
        assert (await boss.last_text()).startswith(
            f"Refund the Stars payment {charge} of user {customer.id}: 50 ⭐ back to the user, 100 credits"
        )
        outcome = await confirm(boss)
        expected = "✅ Done: 50 ⭐ refunded" if attempt == 0 else "☑️ Already done before"
        assert outcome.startswith(expected), outcome
    assert (await harness.system.ledger.balance(customer.id)).available == 100
    assert (await harness.app.services.payments.get(charge)).status == "refunded"
    reversals = await harness.system.pool.fetchval(
        "SELECT count(*) FROM ledger_entries WHERE idempotency_key = $1", f"topup-refund:{charge}"
    )
    assert reversals == 1
    sim = (await harness.sim("GET", "/_sim/payments"))["payments"]
    assert [p["refunded_date"] is not None for p in sim if p["charge_id"] == charge] == [True]

    # Credits already spent: refused before any Star moves, with the shortfall.
    spender = await harness.user(credits=0)
    spent = await pay(harness, spender, "s50")
    await generate(harness, spender.id)  # 4 of the 100 credits
    await boss.send(f"/admin user {spender.id}")
    await boss.press_for(AdminAction, op=AdminOp.REFUND_TOP_UP, user=spender.id)
    await boss.send("changed my mind")
    refused = await confirm(boss)
    assert refused.startswith("⛔ Refused: the user has already spent these credits, 4 credits short."), (
        refused
    )
    assert (await harness.app.services.payments.get(spent)).status == "credited"
    sim = (await harness.sim("GET", "/_sim/payments"))["payments"]
    assert [p["refunded_date"] for p in sim if p["charge_id"] == spent] == [None]
    assert (await harness.system.ledger.balance(spender.id)).available == 96
    actions = await harness.system.pool.fetch(
        "SELECT action, outcome FROM admin_actions WHERE target = ANY($1::text[]) ORDER BY id",
        [gid, charge, spent],
    )
    # Every run of an admin action is on record, the repeated ones as "already done".
    assert [(a["action"], a["outcome"]) for a in actions] == [
        ("refund_generation", "done"),
        ("refund_generation", "already_done"),
        ("refund_topup", "done"),
        ("refund_topup", "already_done"),
        ("refund_topup", "refused"),
    ]
    assert await check_invariant(harness.system.pool) == []


async def test_generations_waiting_too_long_link_to_the_temporal_ui(harness: Harness):
    boss = await admin(harness)
    customer = await harness.user(credits=100)
    await harness.system.kie_config(slow_latency=20.0)
    try:
        handle = await harness.system.generate(
            customer.id, "google/nano-banana", {"prompt": "a slow dawn [sim:slow]"}
        )
        await harness.system.wait_stage(handle, Stage.WAITING)
    finally:
        await harness.system.kie_config(slow_latency=4.0)  # the suite's value (fast_kie)
    await boss.send("/admin")
    await boss.press(AdminAction(op=AdminOp.STUCK))
    assert handle.id not in await boss.last_text()  # running for a few seconds: as usual
    # It has been waiting for five minutes, as far as the record goes (a text-to-image usually takes 60 s).
    await harness.system.pool.execute(
        "UPDATE generations SET created_at = created_at - interval '5 minutes' WHERE id = $1", handle.id
    )
    await boss.press(AdminAction(op=AdminOp.STUCK))
    text = await boss.last_text()
    line = next(line for line in text.splitlines() if handle.id in line)
    assert re.search(r"google/nano-banana · waiting_kie · waiting 5 min \(usual 60 s\) · user \d+$", line), (
        line
    )
    link = text.splitlines()[text.splitlines().index(line) + 1]
    assert link == f"http://localhost:8233/namespaces/default/workflows/{handle.id}"
    assert (await handle.query(GenerationWorkflow.status)).stage == Stage.WAITING


async def test_payment_support_question_reaches_the_admins_and_their_answer_the_user(harness: Harness):
    boss = await admin(harness)
    customer = await harness.user()
    await customer.send("/paysupport")
    explanation = await customer.last()
    assert "Refunds of Stars are made by our administrators" in explanation["text"]
    assert Menu(to=MenuTarget.HOME).pack() in [b["callback_data"] for b in buttons(explanation)]
    await customer.send("/paysupport please refund my payment of today")
    assert await customer.last_text() == "Sent to the administrators. They will answer here, in this chat."
    assert await boss.last_text() == (
        f"💬 Payment support, user {customer.id}:\nplease refund my payment of today\n\n"
        f"Answer with /admin reply {customer.id} <text>"
    )
    await boss.send(f"/admin reply {customer.id} Done, the Stars are back.")
    assert await boss.last_text() == f"Sent to user {customer.id}."
    assert await customer.last_text() == "💬 Support: Done, the Stars are back."
