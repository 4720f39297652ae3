"""Inline keyboards. Every button's callback data is a factory of ``contracts.buttons`` (≤ 64 bytes: codes,
keys and ids only); the routers filter on the same factories."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from contracts.buttons import GenerationAction, GenerationOp, Menu, MenuTarget, SetLanguage

Rows = list[list[InlineKeyboardButton]]


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())  # pack() refuses > 64 bytes


def menu_button(text: str, target: MenuTarget) -> InlineKeyboardButton:
    return button(text, Menu(to=target))


def markup(rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def home_row() -> list[InlineKeyboardButton]:
    return [menu_button(_("🏠 Home"), MenuTarget.HOME)]


def home() -> InlineKeyboardMarkup:
    return markup([home_row()])


def main_menu() -> InlineKeyboardMarkup:
    return markup(
        [
            [menu_button(_("🎨 Create"), MenuTarget.CREATE)],
            [
                menu_button(_("💰 Balance"), MenuTarget.BALANCE),
                menu_button(_("💳 Top up"), MenuTarget.TOP_UP),
            ],
            [menu_button(_("🗂 History"), MenuTarget.HISTORY), menu_button(_("❓ Help"), MenuTarget.HELP)],
            [
                menu_button(_("🧪 Recipes"), MenuTarget.RECIPES),
                menu_button(_("🌐 Language"), MenuTarget.LANGUAGE),
            ],
        ]
    )


def topup_and_home() -> InlineKeyboardMarkup:
    return markup([[menu_button(_("💳 Top up"), MenuTarget.TOP_UP)], home_row()])


def languages() -> InlineKeyboardMarkup:
    return markup(
        [[button("English", SetLanguage(code="en")), button("Русский", SetLanguage(code="ru"))], home_row()]
    )


def cancel_generation(request_key: str) -> InlineKeyboardMarkup:
    return markup([[button(_("✖️ Cancel"), GenerationAction(op=GenerationOp.CANCEL, key=request_key))]])
