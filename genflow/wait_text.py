"""How a wait in the KIE submit queue reads to a user: the queued status message and the confirm card."""

from __future__ import annotations

import math

from contracts.models import QueuePlace
from genflow.i18n import translate as _


def wait_phrase(seconds: float, language: str) -> str:
    """'less than a minute' or 'about N min', rounded up: a queue that takes longer than said annoys."""
    if seconds < 60:
        return _("less than a minute", language)
    return _("about {minutes} min", language, minutes=math.ceil(seconds / 60))


def queue_text(place: QueuePlace | None, language: str, *, model: str) -> str:
    text = _(
        "🕒 In the queue for {model}: KIE takes a limited number of new tasks a second.",
        language,
        model=model,
    )
    if place is None:
        return text
    if place.ahead <= 0:
        line = _("You are next.", language)
    else:
        line = _(
            "Ahead of you: {ahead}. Starts in {wait}.",
            language,
            ahead=place.ahead,
            wait=wait_phrase(place.wait_seconds, language),
        )
    return f"{text}\n{line}\n" + _("The credits are held and charged only for a result.", language)


def backpressure_text(seconds: float, language: str) -> str:
    """The confirm card's warning when the queue is long, before the user pays."""
    return _(
        "⏳ Busy right now: it starts in {wait} (queue for KIE).",
        language,
        wait=wait_phrase(seconds, language),
    )
