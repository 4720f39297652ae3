"""Whatever arrives at whichever step: every message gets an answer with a way forward, every button press is
answered, nothing raises. Also: a restart in the middle of a form, flood control, and the error middleware."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from contracts.buttons import (
    FormAction,
    FormatModels,
    FormOp,
    Menu,
    MenuTarget,
    ModelCard,
    StartForm,
)
from simulators.telegram.testing import make_png
from tests.bot.conftest import Harness, User, buttons, media_messages
from tests.bot.test_create import generate_from_card, open_model

ASSETS = Path(__file__).resolve().parents[2] / "simulators" / "kie" / "assets"
STALE = [
    "f:dead00:ov",
    "f:dead00:v:0:0",
    "f:",
    "f:x:y:z:w",
    FormatModels(format="no-such-format"),
    ModelCard(code="no-such-model"),
    StartForm(code="no-such-model"),
    "g:no-such-key",
    "g:",
    "gen:cancel:gen-1-someone-else",
    "gen:again:gen-1-someone-else",
    "h:r:gen-1-someone-else",
    "lang:xx",
    "menu:nope",
    "garbage",
]


async def poke(user: User, *, with_text: bool = True, with_photo: bool = True) -> None:
    """Stale buttons, an unknown command, a voice-over, then (optionally) a photo and random text."""
    last = await user.last()
    for data in STALE:
        await user.tap(last["message_id"], data, force=True)
    for data in [b["callback_data"] for b in buttons(last) if b["callback_data"].startswith("f:")][:1]:
        await user.tap(last["message_id"], data.replace(":", ":0", 1), force=True)  # another form's id
    for send in [
        lambda: user.send("/nosuchcommand"),
        lambda: user.send_file("voice.mp3", (ASSETS / "sample.mp3").read_bytes(), "audio"),
        *([lambda: user.send_file("p.png", make_png(300, 300), "photo")] if with_photo else []),
        *([lambda: user.send("🦜 random words, 12345")] if with_text else []),
    ]:
        before = len((await user.chat())["messages"])
        await send()
        chat = await user.chat()
        answers = [m for m in chat["messages"][before:] if m["sender"] == "bot"]
        assert answers, f"no answer at {last['text']!r}"
        assert any(buttons(m) for m in answers), answers  # a way forward


async def test_anything_at_every_step_is_answered(harness: Harness):
    user = await harness.user(credits=100)
    await user.send("/start")
    await poke(user)  # no form
    await user.press(Menu(to=MenuTarget.CREATE).pack())
    await poke(user)
    await open_model(user, "image-to-image", "nano-banana-edit")
    await poke(user, with_text=False)  # asking for the prompt (a photo gets a hint)
    await user.send("make it sunny")
    await poke(user, with_photo=False)  # asking for images (text gets a hint)
    await user.send_file("p.png", make_png(300, 300), "photo")
    await poke(user, with_text=False, with_photo=False)  # one image received, more may follow
    await user.press_for(FormAction, op=FormOp.DONE)
    await poke(user)  # the overview
    await user.press_text("Aspect ratio")
    await poke(user, with_text=False)  # a choice
    await user.press_for(FormAction, op=FormOp.CHOOSE, value=2)
    await user.press_for(FormAction, op=FormOp.GENERATE)
    await poke(user)  # the confirmation card
    await generate_from_card(user)
    await poke(user)  # after Generate: no form
    await user.wait_for(lambda chat: bool(media_messages(chat)))
    await poke(user)

    callbacks = await user.callback_answers()
    assert len(callbacks) > 9 * len(STALE) and all(c["answered"] for c in callbacks)
    stale = [c for c in callbacks if c["data"] in STALE]
    assert all(c["answer"]["text"] for c in stale), [c for c in stale if not c["answer"]["text"]]
    records = await harness.system.generations.recent_for_user(user.id)
    assert len(records) == 1 and records[0].status == "succeeded"


async def test_a_restart_in_the_middle_of_a_form(harness: Harness):
    user = await harness.user(credits=100)
    await open_model(user, "text-to-image", "nano-banana")
    await user.send("a lighthouse")
    overview = await user.last()
    old_updates = list(user.sent)

    await harness.restart()  # a new process: new pool, storage, Dispatcher and Bot
    await user.tap(
        overview["message_id"], next(b["callback_data"] for b in buttons(overview) if "Aspect" in b["text"])
    )
    await user.press_text("9:16")
    assert "Aspect ratio: 9:16" in [b["text"] for b in buttons(await user.last())]
    await user.press_for(FormAction, op=FormOp.GENERATE)
    assert "Prompt: a lighthouse\n" in await user.last_text()
    await generate_from_card(user)
    await user.wait_for(lambda chat: bool(media_messages(chat)))
    # The old process confirmed what it handled: the new one saw none of it again.
    assert not set(old_updates) & set(harness.app.tracker.done)


@pytest.mark.parametrize("bot_overrides", [{"bot_flood_rate_per_second": 0.2, "bot_flood_burst": 3}])
async def test_flood_control_slows_a_user_down_politely(harness: Harness):
    user = await harness.user()
    for _ in range(8):
        await user.send("/menu")
    texts = [m["text"] for m in await user.bot_messages()]
    assert texts.count("You are sending messages too fast. Please wait a few seconds.") == 1
    assert 3 <= len([t for t in texts if "What shall we do?" in t]) <= 4
    menu = next(m for m in await user.bot_messages() if "What shall we do?" in m["text"])
    await user.tap(menu["message_id"], Menu(to=MenuTarget.BALANCE).pack())
    assert await user.last_answer() == "Slow down a little, please."
    other = await harness.user()  # the limit is per user
    await other.send("/menu")
    assert "What shall we do?" in await other.last_text()


async def test_a_failing_handler_gets_a_generic_answer_and_a_log_without_personal_data(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    user = await harness.user()
    await user.send("/menu")

    typed = "secret words " + "the user typed"

    async def broken(user_id: int) -> None:
        raise RuntimeError(typed)

    monkeypatch.setattr(harness.app.services.ledger, "balance", broken)
    harness.expected_errors = 1
    with caplog.at_level(logging.ERROR):
        await user.press(Menu(to=MenuTarget.BALANCE).pack())
    assert await user.last_answer() == "⚠️ Something went wrong. Please try again."
    message = await user.last()
    assert message["text"] == "⚠️ Something went wrong. Please try again."
    assert [b["callback_data"] for b in buttons(message)] == [Menu(to=MenuTarget.HOME).pack()]
    assert "RuntimeError" in caplog.text and "secret words" not in caplog.text
