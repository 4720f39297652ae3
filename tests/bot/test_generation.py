"""Generate, Cancel, Try again, History: what the status message's buttons and the card's Generate do."""

from __future__ import annotations

import asyncio

import pytest

from contracts.buttons import (
    FormAction,
    FormOp,
    Generate,
    GenerationAction,
    GenerationOp,
    Menu,
    MenuTarget,
    ModelCard,
    StartForm,
)
from contracts.models import Stage
from simulators.telegram.testing import make_png
from tests.bot.conftest import Harness, User, buttons, key_of, media_messages
from tests.bot.test_create import generate_from_card, open_model
from tests.fixtures.buttons import unpacked
from workflows.generation import GenerationWorkflow


async def card_for(user: User, prompt: str) -> None:
    await open_model(user, "text-to-image", "nano-banana")
    await user.send(prompt)
    await user.press_for(FormAction, op=FormOp.GENERATE)


async def status_message(user: User, gid: str) -> dict:
    """The status message the bot sent for this generation, as it looks now (the workflow edits it)."""
    key = key_of(gid)
    sent = next(c for c in await user.calls("sendMessage") if key in str(c["params"].get("reply_markup")))
    message_id = sent["result"]["message_id"]
    return next(m for m in (await user.chat())["messages"] if m["message_id"] == message_id)


async def test_not_enough_credits_offers_a_top_up(harness: Harness):
    user = await harness.user(credits=3)
    await card_for(user, "a cat")
    card = await user.last()
    assert "Not enough credits: 1 more needed." in card["text"]
    data = [b["callback_data"] for b in buttons(card)]
    assert Menu(to=MenuTarget.TOP_UP).pack() in data and not any(unpacked(d, Generate) for d in data)

    # The card's key is in the form: a Generate that gets through anyway is refused before anything starts.
    key = (await user.fsm())["form"]["key"]
    await user.press(Generate(key=key), card["message_id"], force=True)
    refusal = await user.last()
    assert refusal["text"] == "This generation costs 4 credits; available: 3 credits. Top up to continue."
    assert [b["callback_data"] for b in buttons(refusal)] == [
        Menu(to=MenuTarget.TOP_UP).pack(),
        Menu(to=MenuTarget.HOME).pack(),
    ]
    await user.press(Menu(to=MenuTarget.TOP_UP).pack())
    assert "Telegram Stars" in await user.last_text()
    assert await harness.system.generations.recent_for_user(user.id) == []


async def test_double_tap_is_one_generation_and_one_charge(harness: Harness):
    user = await harness.user(credits=100)
    await card_for(user, "a red fox")
    card = await user.last()
    key = next(b["callback_data"] for b in buttons(card) if unpacked(b["callback_data"], Generate))
    await asyncio.gather(user.tap(card["message_id"], key), user.tap(card["message_id"], key))
    await user.tap(card["message_id"], key, force=True)  # and once more after it started
    chat = await user.wait_for(lambda chat: bool(media_messages(chat)))
    await asyncio.sleep(0.5)

    statuses = [c for c in await user.calls("sendMessage") if c["params"]["text"].startswith("⏳ Starting")]
    assert len(statuses) == 1
    records = await harness.system.generations.recent_for_user(user.id)
    assert len(records) == 1 and records[0].id.endswith(key.removeprefix("g:"))
    balance = await harness.system.ledger.balance(user.id)
    assert (balance.balance, balance.held) == (96, 0)
    holds = await harness.system.pool.fetchval(
        "SELECT count(*) FROM ledger_entries WHERE user_id = $1 AND kind = 'hold'", user.id
    )
    assert holds == 1 and len(media_messages(chat)) == 1
    answers = [c["answer"]["text"] for c in chat["callbacks"]]
    assert answers.count("Started!") == 1 and answers.count("This generation has already started.") == 2


async def test_cancel_before_submission_is_accepted(harness: Harness):
    user = await harness.user(credits=100)
    await open_model(user, "image-to-image", "nano-banana-edit")
    await user.send("make it sunny")
    await user.send_file("photo.png", make_png(), "photo")
    await user.press_for(FormAction, op=FormOp.DONE)
    await user.press_for(FormAction, op=FormOp.GENERATE)
    # Telegram is slow to hand the photo over: the generation waits in "preparing", still cancellable.
    await harness.sim("POST", "/_sim/faults", json={"method": "getFile", "error_code": 500, "delay": 3})
    gid = await generate_from_card(user)
    handle = harness.system.client.get_workflow_handle(gid)
    await harness.system.wait_stage(handle, Stage.PREPARING)
    await user.press(
        GenerationAction(op=GenerationOp.CANCEL, key=key_of(gid)),
        (await status_message(user, gid))["message_id"],
    )
    assert await user.last_answer() == "Cancelled."

    await asyncio.wait_for(handle.result(), 30)
    status = await status_message(user, gid)
    assert status["text"].startswith("✖️ Cancelled.")
    assert GenerationAction(op=GenerationOp.AGAIN, key=key_of(gid)).pack() in [
        b["callback_data"] for b in buttons(status)
    ]
    balance = await harness.system.ledger.balance(user.id)
    assert (balance.balance, balance.held) == (100, 0)
    await harness.sim("DELETE", "/_sim/faults")


async def test_cancel_after_submission_is_refused_with_the_reason(harness: Harness):
    user = await harness.user(credits=100)
    await card_for(user, "a slow lighthouse [sim:slow]")
    gid = await generate_from_card(user)
    handle = harness.system.client.get_workflow_handle(gid)
    await harness.system.wait_stage(handle, Stage.WAITING)
    status = await status_message(user, gid)
    await user.press(
        GenerationAction(op=GenerationOp.CANCEL, key=key_of(gid)), status["message_id"], force=True
    )  # an old Cancel button
    assert await user.last_answer() == "Too late to cancel: the model is already working on it."
    assert (await handle.query(GenerationWorkflow.status)).cancel_requested is False
    await asyncio.wait_for(handle.result(), 30)
    chat = await user.wait_for(lambda chat: bool(media_messages(chat)))
    await user.tap(
        chat["messages"][0]["message_id"],
        GenerationAction(op=GenerationOp.CANCEL, key=key_of(gid)),
        force=True,
    )  # status is gone
    assert await user.last_answer() == "This generation has already finished."


async def test_try_again_after_a_failure_and_change_inputs(harness: Harness):
    user = await harness.user(credits=100)
    await card_for(user, "a broken dream [sim:fail]")
    gid = await generate_from_card(user)
    await asyncio.wait_for(harness.system.client.get_workflow_handle(gid).result(), 30)
    failed = await status_message(user, gid)
    assert failed["text"].startswith("❌") and "Nothing was charged" in failed["text"]

    await user.press(GenerationAction(op=GenerationOp.AGAIN, key=key_of(gid)), failed["message_id"])
    card = await user.last()
    assert "Prompt: a broken dream [sim:fail]" in card["text"] and "Price: 4 credits" in card["text"]
    await user.press_text("Change inputs")
    await user.press_text("Prompt")
    await user.send("a fine dream")
    assert "Prompt: a fine dream" in [b["text"] for b in buttons(await user.last())]
    await user.press_for(FormAction, op=FormOp.GENERATE)
    second = await generate_from_card(user)
    assert second != gid
    chat = await user.wait_for(lambda chat: bool(media_messages(chat)))
    assert len(media_messages(chat)) == 1
    balance = await harness.system.ledger.balance(user.id)
    assert (balance.balance, balance.held) == (96, 0)


async def test_history_resends_by_file_id_and_starts_again(harness: Harness):
    user = await harness.user(credits=100)
    await user.send("/menu")
    await user.press(Menu(to=MenuTarget.HISTORY).pack())
    assert await user.last_text() == "No generations yet."
    await card_for(user, "a tower")
    gid = await generate_from_card(user)
    chat = await user.wait_for(lambda chat: bool(media_messages(chat)))
    delivered = media_messages(chat)[-1]["media"][0]["file_id"]

    await user.send("/history")
    listing = await user.last()
    assert listing["text"].startswith("Your last generations:\n1. Nano Banana · ✅ done · 4 credits")
    await user.press(GenerationAction(op=GenerationOp.RESEND, key=key_of(gid)), listing["message_id"])
    assert await user.last_answer() == "Sent again."
    again = media_messages(await user.chat())
    assert len(again) == 2 and again[-1]["media"][0]["file_id"] == delivered
    await user.press(GenerationAction(op=GenerationOp.AGAIN, key=key_of(gid)), listing["message_id"])
    assert "Prompt: a tower" in await user.last_text()

    stranger = await harness.user()
    await stranger.send("/menu")
    await stranger.press(GenerationAction(op=GenerationOp.RESEND, key=key_of(gid)), force=True)
    assert await stranger.last_answer() == "There is nothing to send again for this generation."
    await stranger.press(GenerationAction(op=GenerationOp.CANCEL, key=key_of(gid)), force=True)
    assert await stranger.last_answer() == "This button is out of date. Open /menu to start again."


@pytest.mark.parametrize("bot_overrides", [{"bot_max_in_progress": 1}])
async def test_too_many_generations_in_progress(harness: Harness):
    user = await harness.user(credits=100)
    await card_for(user, "first [sim:slow]")
    gid = await generate_from_card(user)
    await harness.system.wait_stage(harness.system.client.get_workflow_handle(gid), Stage.WAITING)
    await card_for(user, "second")
    await user.press_for(Generate)
    assert await user.last_answer() == "Please wait for a generation to finish."
    assert (await user.last_text()).startswith("Too many generations in progress (1).")


async def test_a_free_model_needs_no_credits(harness: Harness):
    user = await harness.user(credits=0)
    await user.send("/menu")
    await user.press(Menu(to=MenuTarget.CREATE).pack())
    listing = await user.find_model("text-to-image", "z-image")
    assert "Z-Image · free" in [b["text"] for b in buttons(listing)]
    await user.press(ModelCard(code="z-image"))
    await user.press(StartForm(code="z-image"))
    await user.send("a quiet harbour")
    await user.press_for(FormAction, op=FormOp.GENERATE)
    card = await user.last()
    assert "Price: free (daily allowance)" in card["text"]
    await user.press_for(Generate)
    assert await user.last_answer() == "Started!"
    chat = await user.wait_for(lambda chat: bool(media_messages(chat)))
    assert len(media_messages(chat)) == 1
