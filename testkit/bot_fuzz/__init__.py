"""Random updates at every step of the real bot: every update a user expects an answer to gets one, nothing
raises, no money moves but through real payments.

The bot runs as its own process (``python -m bot``), long-polling the Telegram Bot API simulator over HTTP,
beside the worker and the webhooks server (:class:`testkit.harness.Harness`). Fuzz users walk the bot's own
screens, pressing the buttons ``contracts.buttons`` declares (``/create`` → format → its models, paging
through "More" → card → every form step, media included → overview → confirmation;
``/topup`` → package → invoice → pay; language, balance, history, help, invite; the admin panel for the admin
of ``ADMIN_IDS``) and at each step send random updates in the real Bot API shapes:

- text: empty-looking, 4,096 and 10,000 characters, unicode (combining marks, RTL, emoji, other scripts'
  digits), Markdown/HTML injection, numbers and JSON in odd forms;
- media: photos, videos, audio, documents, voice, video notes, animations and stickers with wrong or
  oversized sizes and MIME types (raw updates with made-up file ids), real small uploads, contacts,
  locations, dice;
- commands: known ones, with arguments, with ``@botname`` (ours and another bot's), unknown ones;
- callback queries: stale (buttons of older screens), other users' buttons, garbage, 64 bytes, unknown
  prefixes and the previous version's buttons, another user's generation key, admin buttons from a
  non-admin, forged operations on the current form (indices out of range, non-ASCII digits, huge numbers,
  another form's id, a wrong confirmation key) (``forged_buttons``);
- edited messages, channel posts, inline queries, my_chat_member (the user blocks the bot; the bot's
  messages then fail with 403 until the user writes again), pre-checkout queries and successful payments
  with forged payloads, and update types aiogram does not know.

Updates the bot did not ask for (its ``allowed_updates``) are *forced* through the simulator
(``POST /_sim/updates`` with ``force``): Telegram would not deliver them, but a bot must survive any update.

What must be answered, counted per update (the answer is read from the simulator's log of Bot API calls, after
the update was created):
  message from a user in the private chat (text, media, command, other content; not the payment service
  messages) → a message into that chat (sendMessage, editMessageText, sendInvoice, ...);
  callback_query → answerCallbackQuery with its id, with a refusal notice ("out of date", ...) when its data
  names nothing the user has;
  pre_checkout_query → answerPreCheckoutQuery with its id (ok only for a genuine invoice: forged → declined).
Not answered by design (they must only not raise): edited messages, channel posts, inline queries (no inline
mode), my_chat_member, successful_payment (the top-up workflow speaks), unknown update types.

Each user sends one update at a time and waits for its answer, at most one flood-counted update per
``gap`` seconds (the bot's flood control allows 1 per second with a burst of 5): a dropped update would be
the flood control working, not a bug.

``python -m bench.fuzz_bot --updates N`` runs it on a fresh stack; ``make chaos`` runs it after the chaos run
on the same stack; ``tests/fuzz/test_bot_fuzz.py`` runs a short one inside ``make test``.
"""

from testkit.bot_fuzz.plan import ADMIN_ID, BOT_USERNAME, REQUIRED_STEPS, WALK_MODELS, BotFuzzPlan
from testkit.bot_fuzz.report import BotFuzzReport
from testkit.bot_fuzz.runner import run_bot_fuzz

__all__ = [
    "ADMIN_ID",
    "BOT_USERNAME",
    "REQUIRED_STEPS",
    "WALK_MODELS",
    "BotFuzzPlan",
    "BotFuzzReport",
    "run_bot_fuzz",
]
