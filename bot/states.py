"""Conversation states (aiogram FSM), stored by ``bot.storage.PgStorage``."""

from aiogram.fsm.state import State, StatesGroup


class FormStates(StatesGroup):
    asking = State()  # the next message answers ``Form.asking``
    overview = State()  # every input with its value; Generate once the required ones are there
    confirm = State()  # the confirmation card with its request key is on screen


class AdminStates(StatesGroup):
    user = State()  # the next message is a user id to look up
    adjust = State()  # the next message is "<±amount> <reason>" for the user in ``admin_target``
    reason = State()  # the next message is the reason for the refund in ``admin_target``


class RecipeStates(StatesGroup):
    asking = State()  # the next message answers the recipe's current question
    confirm = State()  # the recipe's confirmation card with its request key is on screen
