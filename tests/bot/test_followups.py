"""What next after a result, through the real bot, worker and simulators: the buttons under a delivered
result, a follow-up opened with the result filled in and linked to it, a re-roll, several variants at once,
favourites; another user's or a forged button changes nothing."""

from __future__ import annotations

import pytest

from contracts.buttons import FollowOp, FollowUp, Menu, MenuTarget
from tests.bot.conftest import Harness, User, buttons, key_of, media_messages
from tests.bot.test_create import generate_from_card
from tests.bot.test_generation import card_for
from tests.fixtures.buttons import unpacked


async def delivered_result(harness: Harness, user: User, prompt: str) -> str:
    """A Nano Banana image in the chat; its generation id. The "What next?" message follows it."""
    await card_for(user, prompt)
    gid = await generate_from_card(user)
    await user.wait_for(lambda chat: any(m["text"] == "✨ What next?" for m in chat["messages"]))
    return gid


def offers(message: dict) -> dict[str, FollowUp]:
    """The "What next?" buttons by label."""
    found = {b["text"]: unpacked(b["callback_data"], FollowUp) for b in buttons(message)}
    return {label: data for label, data in found.items() if data is not None}


async def test_under_a_result_its_follow_ups_and_an_animation_linked_to_it(harness: Harness):
    user = await harness.user(credits=500)
    gid = await delivered_result(harness, user, "a lighthouse at dawn")
    what_next = await user.message_with(lambda b: b["text"] == "🎬 Animate")
    labels = set(offers(what_next))
    assert {"🎬 Animate", "🔍 Upscale", "✂️ Remove background", "✏️ Edit"} <= labels
    assert {"🔁 Re-roll", "➕ More like this", "⭐ Save"} <= labels
    assert all(data.key == key_of(gid) for data in offers(what_next).values())

    await user.press(offers(what_next)["🎬 Animate"], what_next["message_id"])
    assert (await user.last_text()).startswith("🎬 Animate: choose a model")
    await user.press_text("Kling 2.6")
    # The image is already in the form: only the prompt is asked, then the overview.
    assert "Prompt" in await user.last_text()
    await user.send("the light turns slowly")
    overview = await user.last()
    labels = [b["text"] for b in buttons(overview)]
    assert not any(label.startswith("❗") for label in labels), labels  # the image is there: nothing missing
    await user.press_text("Generate")
    card = await user.last_text()
    assert "Follows up your earlier result." in card and "Price:" in card
    child = await generate_from_card(user)
    chat = await user.wait_for(lambda chat: len(media_messages(chat)) == 2, within=60)
    assert media_messages(chat)[-1]["media"][0]["kind"] == "video"
    record = await harness.system.generations.get(child)
    assert record is not None and record.parent_id == gid and record.status == "succeeded"
    parent = await harness.system.generations.get(gid)
    assert parent is not None and record.inputs["image_urls"] == [parent.result["files"][0]["url"]]
    await user.send("/history")
    assert "↳ " in await user.last_text()
    await harness.system.assert_ledger_consistent()


async def test_an_old_result_goes_to_the_next_model_from_telegram(harness: Harness):
    # KIE's result URLs live about a day: a follow-up of an older result sends the file as Telegram keeps it,
    # and the generation uploads it to KIE again.
    user = await harness.user(credits=500)
    gid = await delivered_result(harness, user, "a red barn")
    await harness.system.pool.execute(
        "UPDATE generations SET finished_at = finished_at - interval '13 hours' WHERE id = $1", gid
    )
    what_next = await user.message_with(lambda b: b["text"] == "🔍 Upscale")
    await user.press(offers(what_next)["🔍 Upscale"], what_next["message_id"])
    await user.press_text("Topaz")
    await user.press_text("Generate")
    child = await generate_from_card(user)
    await user.wait_for(lambda chat: len(media_messages(chat)) == 2, within=60)
    record = await harness.system.generations.get(child)
    parent = await harness.system.generations.get(gid)
    assert record is not None and parent is not None and record.status == "succeeded"
    assert record.inputs["image_url"] == parent.telegram_file_ids[0]  # a Telegram file id, not KIE's URL


async def test_reroll_and_more_like_this(harness: Harness):
    user = await harness.user(credits=100)
    gid = await delivered_result(harness, user, "a paper crane")
    what_next = await user.message_with(lambda b: b["text"] == "🔁 Re-roll")
    await user.press(offers(what_next)["🔁 Re-roll"], what_next["message_id"])
    assert "Prompt: a paper crane" in await user.last_text()
    await generate_from_card(user)
    await user.wait_for(lambda chat: len(media_messages(chat)) == 2)

    await user.press(offers(what_next)["➕ More like this"], what_next["message_id"])
    card = await user.last_text()
    assert "Variants: 3 × 4 credits" in card and "Price: 12 credits" in card
    await user.press_text("Generate")
    chat = await user.wait_for(lambda chat: len(media_messages(chat)) == 5, within=60)
    assert len([m for m in chat["messages"] if (m["text"] or "").startswith("✨ What next?")]) == 5
    balance = await harness.system.ledger.balance(user.id)
    assert (balance.balance, balance.held) == (100 - 5 * 4, 0)  # five generations, each charged once
    records = await harness.system.generations.recent_for_user(user.id, limit=10)
    assert len(records) == 5 and all(r.status == "succeeded" for r in records)
    assert gid in {r.id for r in records}
    await harness.system.assert_ledger_consistent()


@pytest.mark.parametrize("bot_overrides", [{"bot_max_in_progress": 2}])
async def test_more_like_this_stays_within_the_per_user_limit(harness: Harness):
    user = await harness.user(credits=100)
    await delivered_result(harness, user, "a quiet pond")
    what_next = await user.message_with(lambda b: b["text"] == "➕ More like this")
    await user.press(offers(what_next)["➕ More like this"], what_next["message_id"])
    assert "Variants: 2 × 4 credits" in await user.last_text()


async def test_favourites(harness: Harness):
    user = await harness.user(credits=100)
    await delivered_result(harness, user, "a green door")
    what_next = await user.message_with(lambda b: b["text"] == "⭐ Save")
    await user.press(offers(what_next)["⭐ Save"], what_next["message_id"])
    assert await user.last_answer() == "Saved to favourites ⭐"
    await user.send("/history")
    await user.press(Menu(to=MenuTarget.FAVOURITES))
    listing = await user.last_text()
    assert listing.startswith("⭐ Your favourites:\n1. Nano Banana")
    await user.press_text("send again")
    assert await user.last_answer() == "Sent again."
    await user.press(offers(what_next)["⭐ Save"], what_next["message_id"])
    assert await user.last_answer() == "Removed from favourites."


async def test_another_users_result_cannot_be_followed_up(harness: Harness):
    owner = await harness.user(credits=100)
    gid = await delivered_result(harness, owner, "a yellow kite")
    stranger = await harness.user(credits=100)
    await stranger.send("/menu")
    for op, ref in [(FollowOp.USE, "kling26-i2v"), (FollowOp.GROUP, "animate"), (FollowOp.REROLL, "")]:
        await stranger.press(FollowUp(key=key_of(gid), op=op, ref=ref), force=True)
        answer = await stranger.last_answer() or ""
        assert "out of date" in answer or "not available" in answer, answer
    await stranger.press(FollowUp(key=key_of(gid), op=FollowOp.FAVOURITE), force=True)
    assert "out of date" in (await stranger.last_answer() or "")
    assert await harness.system.generations.recent_for_user(stranger.id) == []
    owner_record = await harness.system.generations.get(gid)
    assert owner_record is not None and not owner_record.favourite
