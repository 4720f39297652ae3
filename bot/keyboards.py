"""Inline keyboards and the callback data they carry (≤ 64 bytes: model codes and short tokens only).

Callback data, by prefix:
  menu:home · menu:create · menu:balance · menu:history · menu:help · menu:lang · menu:invite · topup:open
  topup:buy:<package id>              send the invoice for a Stars package
  lang:<code>                         switch the language
  c:f:<format id> · c:m:<model code> · c:s:<model code>      formats → models → card → start the form
  f:<form id>:<op>[:<args>]           the form (see routers/create.py)
  g:<request key>                     Generate on a confirmation card
  gen:cancel:<generation id> · gen:again:<generation id>     on the workflow's status message
  h:r:<generation id>                 re-send a result from history
  adm:…                               the admin panel (admins only; see routers/admin.py)
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

HOME = "menu:home"
CREATE = "menu:create"
BALANCE = "menu:balance"
HISTORY = "menu:history"
HELP = "menu:help"
LANGUAGE = "menu:lang"
TOPUP = "topup:open"
BUY = "topup:buy:"
INVITE = "menu:invite"

Rows = list[list[InlineKeyboardButton]]


def button(text: str, data: str) -> InlineKeyboardButton:
    assert len(data.encode()) <= 64, data
    return InlineKeyboardButton(text=text, callback_data=data)


def markup(rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def home_row() -> list[InlineKeyboardButton]:
    return [button(_("🏠 Home"), HOME)]


def home() -> InlineKeyboardMarkup:
    return markup([home_row()])


def main_menu() -> InlineKeyboardMarkup:
    return markup(
        [
            [button(_("🎨 Create"), CREATE)],
            [button(_("💰 Balance"), BALANCE), button(_("💳 Top up"), TOPUP)],
            [button(_("🗂 History"), HISTORY), button(_("❓ Help"), HELP)],
            [button(_("🌐 Language"), LANGUAGE)],
        ]
    )


def topup_and_home() -> InlineKeyboardMarkup:
    return markup([[button(_("💳 Top up"), TOPUP)], home_row()])


def languages() -> InlineKeyboardMarkup:
    return markup([[button("English", "lang:en"), button("Русский", "lang:ru")], home_row()])


def cancel_generation(generation_id: str) -> InlineKeyboardMarkup:
    return markup([[button(_("✖️ Cancel"), f"gen:cancel:{generation_id}")]])
