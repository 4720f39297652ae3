"""A Russian-speaking user sees Russian from /start to the delivered result, errors included."""

from __future__ import annotations

from contracts.buttons import (
    FormAction,
    FormOp,
    Generate,
    Menu,
    MenuTarget,
    ModelCard,
    StartForm,
)
from tests.bot.conftest import Harness, buttons, media_messages


async def test_russian_user_end_to_end(harness: Harness):
    user = await harness.user(credits=100, language_code="ru", stored_language=False)
    await user.send("/start")
    menu = await user.last()
    assert "Привет, Ann!" in menu["text"]
    assert [b["text"] for b in buttons(menu)][:3] == ["🎨 Создать", "💰 Баланс", "💳 Пополнить"]
    await user.press(Menu(to=MenuTarget.CREATE).pack())
    assert await user.last_text() == "Что хотите создать?"
    assert "Картинка по тексту" in [b["text"] for b in buttons(await user.last())]
    listing = await user.find_model("text-to-image", "nano-banana")
    assert "Nano Banana · от 4 кредитов" in [b["text"] for b in buttons(listing)]
    await user.press(ModelCard(code="nano-banana"))
    assert "Цена:" in await user.last_text()
    await user.press(StartForm(code="nano-banana"))
    assert "Пришлите текст (до 5000 символов)." in await user.last_text()
    await user.send("я" * 5001)
    assert (await user.last_text()).startswith("⚠️ Поле «Описание» слишком длинное")
    await user.send("маяк на рассвете")
    overview = await user.last()
    assert "Описание: маяк на рассвете" in [b["text"] for b in buttons(overview)]
    await user.press_for(FormAction, op=FormOp.GENERATE)
    card = await user.last_text()
    assert "Цена: 4 кредита" in card and "Доступно: 100 кредитов" in card and "После: 96 кредитов" in card
    await user.press_for(Generate)
    assert await user.last_answer() == "Запущено!"
    chat = await user.wait_for(lambda chat: bool(media_messages(chat)))
    assert media_messages(chat)[-1]["caption"] == "✅ Nano Banana · 4 кр."
    record = (await harness.system.generations.recent_for_user(user.id))[0]
    assert record.language == "ru"
    await user.send("/history")
    assert (await user.last_text()).startswith(
        "Ваши последние генерации:\n1. Nano Banana · ✅ готово · 4 кредита"
    )
    await user.send("что-то непонятное")
    assert await user.last_text() == "Я не понял. Выберите действие:"
