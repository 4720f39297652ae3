"""Create → form → confirmation → Generate, ending with the result the worker delivered into the chat."""

from __future__ import annotations

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
from contracts.ids import generation_id
from simulators.telegram.testing import make_png
from tests.bot.conftest import Harness, User, buttons, media_messages
from tests.fixtures.buttons import matches, unpacked


async def open_model(user: User, format_id: str, code: str) -> None:
    await user.send("/menu")
    await user.press(Menu(to=MenuTarget.CREATE).pack())
    await user.find_model(format_id, code)
    await user.press(ModelCard(code=code))
    await user.press(StartForm(code=code))


async def generate(user: User) -> str:
    """Tap Generate on the confirmation card; returns the generation id from the status message."""
    await user.press_for(FormAction, op=FormOp.GENERATE)
    card = await user.last()
    assert "Price:" in card["text"], card["text"]
    await user.press_for(Generate)
    status = next(m for m in reversed(await user.bot_messages()) if "Starting" in (m["text"] or ""))
    return _generation_of(user, status)


def _generation_of(user: User, status: dict) -> str:
    """The generation id of a status message: its Cancel button carries the request key."""
    cancel = unpacked(buttons(status)[0]["callback_data"], GenerationAction)
    assert cancel is not None and cancel.op == GenerationOp.CANCEL
    return generation_id(user.id, cancel.key)


async def test_text_model_from_menu_to_delivered_image(harness: Harness):
    user = await harness.user(credits=100)
    await open_model(user, "text-to-image", "nano-banana")
    assert "Prompt" in await user.last_text() and "5000" in await user.last_text()

    await user.send("a lighthouse at dawn")
    overview = await user.last()
    labels = [b["text"] for b in buttons(overview)]
    assert "Prompt: a lighthouse at dawn" in labels and "Aspect ratio: 1:1" in labels
    assert any(matches(b["callback_data"], FormAction, op=FormOp.GENERATE) for b in buttons(overview))

    # An optional input: its choices as buttons, the overview shows the new value.
    await user.press_text("Aspect ratio")
    await user.press_text("16:9")
    assert "Aspect ratio: 16:9" in [b["text"] for b in buttons(await user.last())]

    await user.press_for(FormAction, op=FormOp.GENERATE)
    card = await user.last_text()
    assert "Price: 4 credits" in card and "Available: 100 credits" in card and "After: 96 credits" in card
    gid = await generate_from_card(user)
    chat = await user.wait_for(lambda chat: bool(media_messages(chat)))
    photo = media_messages(chat)[-1]
    assert photo["media"][0]["kind"] == "photo" and "4 credits" in photo["caption"]
    record = await harness.system.generations.get(gid)
    assert record is not None and record.inputs["image_size"] == "16:9"
    balance = await harness.system.ledger.balance(user.id)
    assert (balance.balance, balance.held) == (96, 0)


async def generate_from_card(user: User) -> str:
    await user.press_for(Generate)
    assert await user.last_answer() == "Started!"
    status = next(m for m in reversed(await user.bot_messages()) if "Starting" in (m["text"] or ""))
    return _generation_of(user, status)


async def test_media_model_with_a_photo_upload(harness: Harness):
    user = await harness.user()
    await open_model(user, "image-to-image", "nano-banana-edit")
    await user.send("make it sunny")
    assert "Send a photo or an image file" in await user.last_text()
    await user.send_file("photo.png", make_png(256, 256), "photo")
    assert "Received: 1 of up to 10" in await user.last_text()
    await user.send_file("second.png", make_png(128, 128), "document")  # an image sent as a file
    assert "Received: 2 of up to 10" in await user.last_text()
    await user.press_for(FormAction, op=FormOp.DONE)
    assert "Images to edit: 📎 ×2" in [b["text"] for b in buttons(await user.last())]
    await user.press_for(FormAction, op=FormOp.GENERATE)
    gid = await generate_from_card(user)
    chat = await user.wait_for(lambda chat: bool(media_messages(chat)))
    assert media_messages(chat)[-1]["media"][0]["kind"] == "photo"
    record = await harness.system.generations.get(gid)
    assert record is not None and record.status == "succeeded" and len(record.inputs["image_urls"]) == 2
