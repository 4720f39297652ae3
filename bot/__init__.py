"""The Telegram bot (aiogram 3): menus, the generation form, balance, history; starts generation workflows.

Entry point: ``python -m bot`` (``bot.app.main``); wiring: ``bot.app.build_dispatcher``.
"""
