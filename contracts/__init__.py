"""Every name shared between Genflow's processes, declared once.

The bot, the webhooks server, the two workers and the tests import what they share from here and never
spell it themselves:

- ``contracts.models`` / ``contracts.money`` — the pydantic models that cross the workflow/activity boundary;
- ``contracts.activities`` — each activity a workflow calls: name, input, output and the queue serving it;
- ``contracts.generation`` — the generation workflow's signals, update, query and search attributes;
- ``contracts.ids`` — workflow ids: builders and parsers;
- ``contracts.queues`` — task queue names;
- ``contracts.routes`` — the HTTP paths other services call (KIE's callback URL);
- ``contracts.buttons`` — the callback data of every inline button (aiogram ``CallbackData``: only the
  bot and the Telegram worker import it, the workflow worker never loads aiogram).
"""
