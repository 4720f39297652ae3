"""Recipes through the real bot, workers and simulators: the questions of every step, the whole price on the
card, each step delivered and charged; a failing middle step refunds itself and the rest, and says so."""

from __future__ import annotations

from contracts.buttons import Menu, MenuTarget, RecipeAction, RecipeOp
from tests.bot.conftest import Harness, User, media_messages

FINISHED = ("Charged:", "Списано:")


async def answer_recipe(user: User, recipe: str, prompts: list[str]) -> str:
    """Open a recipe, answer its questions; the confirmation card's text."""
    await user.send("/menu")
    await user.press(Menu(to=MenuTarget.RECIPES))
    await user.press(RecipeAction(op=RecipeOp.SHOW, ref=recipe))
    await user.press(RecipeAction(op=RecipeOp.START, ref=recipe))
    for prompt in prompts:
        assert "Step " in await user.last_text()
        await user.send(prompt)
    return await user.last_text()


def finished(message: dict) -> bool:
    text = message["text"] or ""
    return text.startswith("🧪") and any(word in text for word in FINISHED)


async def recipe_message(user: User) -> dict:
    """The recipe's status message once it says how it ended."""
    chat = await user.wait_for(lambda chat: any(finished(m) for m in chat["messages"]), within=90)
    return next(m for m in chat["messages"] if finished(m))


async def test_text_image_video_runs_every_step_charged_once(harness: Harness):
    user = await harness.user(credits=500)
    card = await answer_recipe(user, "story", ["a lighthouse at dawn", "waves crash"])
    assert "Total:" in card and "1. Nano Banana · 4 credits" in card
    total = int(card.split("Total: ")[1].split(" ")[0])
    await user.press_text("Start ·")
    assert await user.last_answer() == "Started!"
    status = await recipe_message(user)
    assert "1. Nano Banana — ✅ done, 4 credits" in status["text"], status["text"]
    assert f"Charged: {total}. Returned to your balance: 0." in status["text"]
    chat = await user.chat()
    kinds = [m["media"][0]["kind"] for m in media_messages(chat)]
    assert kinds == ["photo", "video"]  # each step's result, in order
    balance = await harness.system.ledger.balance(user.id)
    assert (balance.balance, balance.held) == (500 - total, 0)
    steps = await harness.system.generations.recent_for_user(user.id, limit=5)
    assert {s.chain_id for s in steps} == {steps[0].chain_id} and steps[0].chain_id
    await harness.system.assert_ledger_consistent()


async def test_a_failing_middle_step_refunds_itself_and_the_rest(harness: Harness):
    user = await harness.user(credits=500)
    card = await answer_recipe(user, "clip-hd", ["a paper boat", "it sinks [sim:fail]"])
    steps = [line for line in card.splitlines() if line[:2] in ("1.", "2.", "3.")]
    prices = [int(line.split("· ")[1].split(" ")[0]) for line in steps]
    await user.press_text("Start ·")
    status = await recipe_message(user)
    text = status["text"]
    assert "✅ done, 4 credits" in text and "❌ failed" in text and "↩️ not run" in text, text
    assert f"Charged: {prices[0]}. Returned to your balance: {prices[1] + prices[2]}." in text
    balance = await harness.system.ledger.balance(user.id)
    assert (balance.balance, balance.held) == (500 - prices[0], 0)
    assert len(media_messages(await user.chat())) == 1  # only the first step delivered
    await harness.system.assert_ledger_consistent()


async def test_not_enough_credits_for_the_whole_recipe_is_said_on_the_card(harness: Harness):
    user = await harness.user(credits=10)
    card = await answer_recipe(user, "story", ["a cat", "it jumps"])
    assert "Not enough credits:" in card
    await harness.system.assert_ledger_consistent()
