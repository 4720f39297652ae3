"""Conversation states (aiogram FSM), stored by ``bot.storage.PgStorage``."""

from aiogram.fsm.state import State, StatesGroup


class FormStates(StatesGroup):
    asking = State()  # the next message answers ``Form.asking``
    overview = State()  # every input with its value; Generate once the required ones are there
    confirm = State()  # the confirmation card with its request key is on screen
