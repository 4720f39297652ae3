"""Bot API method registry and the context every handler receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..models import BotIdentity
from ..params import Params

if TYPE_CHECKING:
    from ..engine import Engine
    from ..state import SimState


@dataclass(frozen=True)
class Ctx:
    engine: Engine
    bot: BotIdentity
    token: str
    params: Params

    @property
    def state(self) -> SimState:
        return self.engine.state


Handler = Callable[[Ctx], Awaitable[Any]]

# lower-case name -> (canonical name, handler): Telegram matches method names case-insensitively.
METHODS: dict[str, tuple[str, Handler]] = {}


def api_method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register
