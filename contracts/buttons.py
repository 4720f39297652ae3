"""The callback data of every inline button, as aiogram ``CallbackData`` factories.

A button's shape is declared here once: the bot's screens and the Telegram worker's messages pack it
(``Menu(to=MenuTarget.HOME).pack()``), and the bot's routers filter on it (``Menu.filter(F.to == ...)``).
Data that does not unpack (a forged or outdated button) matches no filter and reaches the fallback, which
answers "out of date". Telegram allows 64 bytes: ids and short codes only, never text.

Generations are named by their request key alone: the handler joins it with the *pressing* user's id, so a
button can only ever act on that user's own generations (a forged key finds nothing).

Only the bot and the Telegram worker import this module (aiogram); the workflow worker never does.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from contracts.ids import REQUEST_KEY_PATTERN

MAX_ID = 2**63 - 1  # ids end up in PostgreSQL bigints
RequestKey = Field(pattern=f"^{REQUEST_KEY_PATTERN}$")


class MenuTarget(StrEnum):
    HOME = "home"
    CREATE = "create"
    BALANCE = "balance"
    HISTORY = "history"
    HELP = "help"
    LANGUAGE = "lang"
    INVITE = "invite"
    TOP_UP = "topup"
    RECIPES = "recipes"
    FAVOURITES = "favs"


class Menu(CallbackData, prefix="menu"):
    """The main menu's screens."""

    to: MenuTarget


class BuyPackage(CallbackData, prefix="buy"):
    """Send the invoice for a Stars package."""

    package: str = Field(max_length=40)


class SetLanguage(CallbackData, prefix="lang"):
    code: str = Field(max_length=8)


class FormatModels(CallbackData, prefix="cf"):
    """A format's models: the short list (page 0), then "more"."""

    format: str = Field(max_length=40)
    page: int = Field(default=0, ge=0, le=1000)


class ModelCard(CallbackData, prefix="cm"):
    code: str = Field(max_length=20)


class StartForm(CallbackData, prefix="cs"):
    code: str = Field(max_length=20)


class FormOp(StrEnum):
    OVERVIEW = "ov"  # back to the overview
    GENERATE = "go"  # check everything, then the confirmation card
    DONE = "ok"  # the current (multi-file) question is answered
    ASK = "a"  # ask input <index>
    DEFAULT = "d"  # leave input <index> to its default
    PAGE = "p"  # page <value> of input <index>'s choices
    CHOOSE = "v"  # choice <value> of input <index>
    YES_NO = "b"  # <value> 1/0 for boolean input <index>


class FormAction(CallbackData, prefix="f"):
    """A button of the form in progress; ``form`` is its id, so a button of an older form is refused."""

    form: str = Field(max_length=16)
    op: FormOp
    index: int | None = Field(default=None, ge=0, le=999)
    value: int | None = Field(default=None, ge=0, le=99_999)


class Generate(CallbackData, prefix="g"):
    """The confirmation card's Generate: its request key becomes the generation's id."""

    key: str = RequestKey


class GenerationOp(StrEnum):
    CANCEL = "cancel"
    AGAIN = "again"  # the same inputs on a new confirmation card
    RESEND = "resend"  # the result again, by Telegram file id


class GenerationAction(CallbackData, prefix="gen"):
    """A button about one of the pressing user's generations (status message, result, history)."""

    op: GenerationOp
    key: str = RequestKey


class FollowOp(StrEnum):
    GROUP = "g"  # the models of follow-up group <ref>
    USE = "u"  # model <ref>'s form, with the result filled in
    REROLL = "r"  # the same inputs, a new seed
    MORE = "m"  # several more like it at once
    FAVOURITE = "f"  # keep it among favourites (or not)


class FollowUp(CallbackData, prefix="fu"):
    """A button under a delivered result: what to do next with it (``key``: the result's generation)."""

    key: str = RequestKey
    op: FollowOp
    ref: str = Field(default="", max_length=20)  # a follow-up group id or a model code


class RecipeOp(StrEnum):
    SHOW = "s"  # the recipe's card
    START = "go"  # start its form
    CONFIRM = "ok"  # run it: the confirmation card's button (ref: its request key)
    CANCEL = "x"  # cancel the running recipe (the running step finishes)


class RecipeAction(CallbackData, prefix="rc"):
    op: RecipeOp
    ref: str = Field(default="", max_length=48)  # the recipe id, or the running recipe's request key


class AdminOp(StrEnum):
    PANEL = "panel"
    FIND = "find"
    STUCK = "stuck"
    DROP = "no"  # drop the pending confirmation
    USER = "u"  # a user's card
    ADJUST = "adj"  # ask for an adjustment of <user>
    REFUND_GENERATION = "rg"  # ask the reason to refund <user>'s generation <ref>
    REFUND_TOP_UP = "rt"  # ask the reason to refund <user>'s payment <ref>
    CONFIRM = "ok"  # run the pending action <ref> (its confirmation key)
    DRIFT = "drift"  # catalog drift: models KIE refused, snapshot differences


class AdminAction(CallbackData, prefix="adm"):
    """Admin panel buttons (admins only: the admin router's filter checks the pressing user)."""

    op: AdminOp
    user: int | None = Field(default=None, ge=0, le=MAX_ID)
    ref: str = Field(default="", max_length=40)
