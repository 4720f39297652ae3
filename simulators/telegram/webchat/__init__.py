"""A local web chat with the bot, served by the Telegram simulator under ``/chat``.

A browser plays the Telegram user: it renders the chat like Telegram (bubbles, inline keyboards, media,
edits, invoices) and acts through the simulator's control API. No build step: one HTML template, one JS
file and one CSS file, working offline.
"""

from .render import render_html, safe_url
from .server import routes

__all__ = ["render_html", "routes", "safe_url"]
