"""A Telegram Bot API simulator: an aiohttp server the real aiogram client talks to over HTTP."""

from .actions import ActionError, Upload
from .config import FloodLimits, SimulatorConfig
from .faults import Fault
from .simulator import TelegramSimulator
from .views import ChatView, MediaView, MessageView

__all__ = [
    "ActionError",
    "ChatView",
    "Fault",
    "FloodLimits",
    "MediaView",
    "MessageView",
    "SimulatorConfig",
    "TelegramSimulator",
    "Upload",
]
