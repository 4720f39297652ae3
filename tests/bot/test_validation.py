"""Each kind of refused answer: the catalog's message at once, for the input just entered, same step."""

from __future__ import annotations

from pathlib import Path

from contracts.buttons import (
    FormAction,
    FormOp,
)
from simulators.telegram.testing import make_png
from tests.bot.conftest import Harness, buttons
from tests.bot.test_create import open_model

ASSETS = Path(__file__).resolve().parents[2] / "simulators" / "kie" / "assets"


async def test_text_too_long_and_a_bad_choice(harness: Harness):
    user = await harness.user()
    await open_model(user, "text-to-image", "nano-banana")
    await user.send("x" * 5001)
    text = await user.last_text()
    assert text.startswith("⚠️ Prompt is too long: at most 5000 characters (you sent 5001).")
    assert "Send the text (up to 5000 characters)." in text  # the same question again
    await user.send("a cat")
    await user.press_text("Aspect ratio")
    await user.send("7:3")
    assert (await user.last_text()).startswith("⚠️ Aspect ratio: choose one of 1:1, 9:16")
    await user.send("16:9")
    assert "Aspect ratio: 16:9" in [b["text"] for b in buttons(await user.last())]


async def test_bad_numbers_and_a_yes_no_input(harness: Harness):
    user = await harness.user()
    await open_model(user, "text-to-audio", "el-sfx")
    await user.send("rain on a tin roof")
    await user.press_text("Duration")
    await user.send("abc")
    assert "expected a number" in await user.last_text()
    await user.send("30")
    assert "must be at most 22 (you sent 30)" in await user.last_text()
    await user.send("2,5")  # a Russian keyboard's decimal comma
    overview = await user.last()
    assert any(b["text"].endswith(": 2,5") for b in buttons(overview)), buttons(overview)
    await user.press_text("Loop")
    await user.press_for(FormAction, op=FormOp.YES_NO, value=1)
    assert any(b["text"].endswith(": yes") for b in buttons(await user.last()))
    await user.press_for(FormAction, op=FormOp.GENERATE)
    assert "Price:" in await user.last_text()


async def test_wrong_media_and_wrong_kinds_of_answers(harness: Harness):
    user = await harness.user()
    await open_model(user, "image-to-image", "nano-banana-edit")
    await user.send_file("photo.png", make_png(), "photo")  # a photo where a prompt is asked
    assert await user.last_text() == "Please send Prompt as a text message."
    await user.send("make it sunny")

    hint = "Send a photo or an image file (JPEG, PNG, WebP) up to 10 MB."
    await user.send("here is my photo")  # text where a photo is asked
    assert (await user.last_text()).startswith(hint)
    await user.send_file("voice.mp3", (ASSETS / "sample.mp3").read_bytes(), "audio")
    assert (await user.last_text()).startswith(f"⚠️ Images to edit: audio is not accepted here. {hint}")
    await user.send_file("clip.mp4", (ASSETS / "sample.mp4").read_bytes(), "video")
    assert (await user.last_text()).startswith("⚠️ Images to edit: a video is not accepted here.")
    await user.send_file("notes.pdf", b"%PDF-1.4 not an image", "document")
    assert (await user.last_text()).startswith("⚠️ Images to edit: this kind of file is not accepted here.")
    big = make_png(64, 64) + b"\0" * (20 * 1024 * 1024)  # over Telegram's 20 MB download limit
    await user.send_file("huge.png", big, "document")
    assert (await user.last_text()).startswith("⚠️ Images to edit: the file is too large (21 MB).")
    assert "Nano Banana Edit · Images to edit" in await user.last_text()  # the same question

    await user.send_file("photo.png", make_png(), "photo")
    assert "Received: 1 of up to 10" in await user.last_text()
    values = (await user.fsm())["form"]["values"]
    assert list(values) == ["prompt", "image_urls"] and len(values["image_urls"]) == 1
