"""Menu, help, balance, top up, language, deep links, /cancel: each through the real client and simulator."""

from __future__ import annotations

from contracts.buttons import (
    Menu,
    MenuTarget,
    ModelCard,
    SetLanguage,
    StartForm,
)
from tests.bot.conftest import Harness, buttons


async def test_start_shows_the_menu_and_keeps_the_first_deep_link(harness: Harness):
    user = await harness.user()
    await user.send("/start ref_abc123")
    message = await user.last()
    assert "What shall we do?" in message["text"] and "Ann" in message["text"]
    shown = {MenuTarget.CREATE, MenuTarget.BALANCE, MenuTarget.TOP_UP, MenuTarget.HISTORY, MenuTarget.HELP}
    shown |= {MenuTarget.RECIPES, MenuTarget.LANGUAGE}
    assert {b["callback_data"] for b in buttons(message)} == {Menu(to=target).pack() for target in shown}
    await user.send("/start ref_other")
    assert await harness.app.services.store.start_payload(user.id) == "ref_abc123"


async def test_help_balance_top_up_and_payment_support(harness: Harness):
    user = await harness.user(credits=50)
    await user.send("/help")
    text = await user.last_text()
    assert "How it works" in text and "• Text to image" in text and "held credits return" in text
    await user.press(Menu(to=MenuTarget.HOME).pack())
    await user.press(Menu(to=MenuTarget.BALANCE).pack())
    balance = await user.last()
    assert balance["text"].startswith("Available: 50 credits\nHeld for generations in progress: 0 credits")
    assert "+50 · top-up" in balance["text"]
    await user.press(Menu(to=MenuTarget.TOP_UP).pack())
    top_up = await user.last()
    assert "Telegram Stars" in top_up["text"] and "Available now: 50 credits" in top_up["text"]
    assert Menu(to=MenuTarget.HOME).pack() in [b["callback_data"] for b in buttons(top_up)]
    await user.send("/paysupport")
    assert "Telegram Stars" in await user.last_text()
    assert Menu(to=MenuTarget.HOME).pack() in [b["callback_data"] for b in buttons(await user.last())]


async def test_cancel_and_menu_leave_a_form(harness: Harness):
    user = await harness.user()
    await user.send("/cancel")
    assert (await user.last_text()).startswith("There is nothing to cancel.")
    await user.press(Menu(to=MenuTarget.CREATE).pack())
    await user.find_model("text-to-image", "nano-banana")
    await user.press(ModelCard(code="nano-banana"))
    await user.press(StartForm(code="nano-banana"))
    assert await harness.app.storage.get_state(key(harness, user)) == "FormStates:asking"
    await user.send("/cancel")
    assert (await user.last_text()).startswith("The form is closed.")
    assert await harness.app.storage.get_state(key(harness, user)) is None
    await user.press(StartForm(code="nano-banana"), force=True)  # an old Start button still works: a new form
    await user.send("/menu")
    assert await user.fsm() == {}  # no form, no row


def key(harness: Harness, user):
    from aiogram.fsm.storage.base import StorageKey

    return StorageKey(bot_id=harness.app.bot.id, chat_id=user.id, user_id=user.id)


async def test_language_switch_is_stored_for_the_workflows(harness: Harness):
    user = await harness.user(language_code="en")
    await user.send("/start")
    await user.press(Menu(to=MenuTarget.LANGUAGE).pack())
    await user.press(SetLanguage(code="ru"))
    assert (await user.last_text()).startswith("Язык: русский")
    assert await user.last_answer() == "Язык: русский"
    assert (await harness.system.ledger.get_user(user.id)).language == "ru"
    await user.send("/menu")
    assert "Что будем делать?" in await user.last_text()
    await user.press(Menu(to=MenuTarget.LANGUAGE).pack())
    await user.press(SetLanguage(code="en"))
    assert (await user.last_text()).startswith("Language: English")


async def test_telegram_language_is_stored_on_first_contact_and_the_choice_overrides_it(harness: Harness):
    newcomer = await harness.user(language_code="ru", stored_language=False)
    assert (await harness.system.ledger.get_user(newcomer.id)).language is None
    await newcomer.send("/start")
    assert (await harness.system.ledger.get_user(newcomer.id)).language == "ru"
    await newcomer.press(Menu(to=MenuTarget.LANGUAGE).pack())
    await newcomer.press(SetLanguage(code="en"))
    await newcomer.send("/menu")
    assert (await harness.system.ledger.get_user(newcomer.id)).language == "en"
    assert "What shall we do?" in await newcomer.last_text()
    # A user who already chose keeps the choice, whatever Telegram's language.
    chosen = await harness.user(language_code="ru")  # stored "en"
    await chosen.send("/start")
    assert (await harness.system.ledger.get_user(chosen.id)).language == "en"
