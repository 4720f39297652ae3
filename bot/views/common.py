"""What every screen shares: the (text, keyboard) pair, credits in words, the main menu, showing a screen.

Messages are plain text (no parse mode): prompts and values typed by users are shown as they are.
"""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards
from catalog.messages import credits_text

Screen = tuple[str, InlineKeyboardMarkup]


def credits(amount: int, lang: str) -> str:
    """ "4 credits", "4 кредита"."""
    return credits_text(amount, lang)


def duration(seconds: int) -> str:
    """A typical wait as people say it: "about 40 s", "about 5 min"."""
    if seconds < 90:
        return _("about {seconds} s").format(seconds=seconds)
    return _("about {minutes} min").format(minutes=round(seconds / 60))


def menu(first_name: str | None = None) -> Screen:
    greeting = _("Hi, {name}!").format(name=first_name) + "\n" if first_name else ""
    text = greeting + _(
        "I make images, videos and music with AI models. Pick a format and a model, fill in a short form "
        "and confirm the price in credits. What shall we do?"
    )
    return text, keyboards.main_menu()


async def show(target: Message | CallbackQuery, screen: Screen) -> Message:
    """A button's answer replaces the message it was on; a message's answer is a new message."""
    text, reply_markup = screen
    if isinstance(target, CallbackQuery):
        message = target.message
        if isinstance(message, Message) and message.text is not None:
            try:
                edited = await message.edit_text(text, reply_markup=reply_markup)
                return edited if isinstance(edited, Message) else message
            except TelegramBadRequest as error:
                if "not modified" in error.message:
                    return message
                # too old to edit, deleted meanwhile...: a new message does as well
        chat_id = message.chat.id if message is not None else target.from_user.id
        assert target.bot is not None
        return await target.bot.send_message(chat_id, text, reply_markup=reply_markup)
    return await target.answer(text, reply_markup=reply_markup)
