"""Hostile messages and updates nobody answers: text (blank, 4,096+, RTL, markup, odd numbers), media of the
wrong kind or size, commands (known, with arguments, ``@botname``, unknown), edited messages, channel posts,
inline queries and update types aiogram does not know."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from testkit.bot_fuzz.plan import BOT_USERNAME
from testkit.bot_fuzz.updates import media
from testkit.bot_fuzz.user import UserBase


class HostileMessages(UserBase):
    async def fuzz_text(self, step: str, **_: Any) -> None:
        cases = {
            "blank": " ",
            "zero_width": "\u200b\u200c\u2060",
            "newlines": "\n\n\n.",
            "max_4096": "ж" * 4096,
            "huge_10000": "x" * 10_000,
            "combining": "Z̷̢̛̪̙̼͎͇̮̲̮͇̈́̈́̓̽̿a̸l̷g̶o̶" * 20,
            "rtl": "\u202eمرحبا بالعالم\u202c שלום",
            "emoji": "👩‍👩‍👧‍👦🏳️‍🌈🦊" * 30,
            "markdown": "*bold* _it_ `code` [link](tg://user?id=1) ||spoiler|| \\",
            "html": "<b>x</b><script>alert(1)</script></code>&amp;&lt;",
            "format_braces": "{name} {0} {} %s %(x)s {{",
            "digits_other_scripts": self.rng.choice(["٣", "²", "߃", "①", "١٢٣", "99999999999999999999999"]),
            "numbers": self.rng.choice(["-1", "0", "1e309", "NaN", "inf", "0x10", "1_000", "3.14159"]),
            "json": self.rng.choice(["[", "{}", "[{}]", '[{"text": 1}]', "null", "[" * 500]),
            "yes_no": self.rng.choice(["да", "YES", "нет", "off"]),
            "sql": "'; DROP TABLE accounts; --",
        }
        case = self.rng.choice(sorted(cases))
        await self.text(cases[case], "text", case, step)

    async def fuzz_media(self, step: str, **_: Any) -> None:
        rng = self.rng
        cases: dict[str, Callable[[], dict[str, Any]]] = {
            "photo_oversized": lambda: media("photo", None, 30_000_000, rng),
            "photo_no_size": lambda: media("photo", None, None, rng),
            "document_exe": lambda: media("document", "application/x-msdownload", 120_000, rng),
            "document_image_huge": lambda: media("document", "image/png", 2_000_000_000, rng),
            "video_wrong_mime": lambda: media("video", "image/png", 3_000_000, rng),
            "video_oversized": lambda: media("video", "video/mp4", 900_000_000, rng),
            "audio_wrong_mime": lambda: media("audio", "text/plain", 10_000, rng),
            "audio_zero": lambda: media("audio", "audio/mpeg", 0, rng),
            "voice": lambda: media("voice", "audio/ogg", 40_000, rng),
            "video_note": lambda: media("video_note", None, 800_000, rng),
            "animation": lambda: media("animation", "video/mp4", 500_000, rng),
            "sticker": lambda: media("sticker", None, 20_000, rng),
            "contact": lambda: {"contact": {"phone_number": "+100000000", "first_name": "X", "user_id": 1}},
            "location": lambda: {"location": {"latitude": 91.5, "longitude": -181.0}},
            "dice": lambda: {"dice": {"emoji": "🎲", "value": 6}},
            "caption_only_huge": lambda: {**media("photo", None, 1000, rng), "caption": "c" * 1024},
            "media_group": lambda: {
                **media("photo", None, 1000, rng),
                "media_group_id": str(rng.randint(1, 10**12)),
            },
        }
        if rng.random() < 0.15:
            from simulators.telegram.testing import make_png

            await self.upload(
                "document", make_png(64, 48), "not-a-photo.exe", "media", "upload_document", step
            )
            return
        case = rng.choice(sorted(cases))
        await self.raw(
            "message",
            {"from": self.me(), **cases[case]()},
            "media",
            case,
            step,
            expect="message",
            counted=True,
        )

    async def fuzz_command(self, step: str, **_: Any) -> None:
        known = [
            "/start",
            "/menu",
            "/cancel",
            "/create",
            "/balance",
            "/topup",
            "/invite",
            "/history",
            "/language",
            "/help",
            "/paysupport",
            "/admin",
        ]
        rng = self.rng
        code = self.run.invite_codes.get(rng.choice(self.run.users)) if self.run.invite_codes else None
        cases = {
            "known": rng.choice(known),
            "known_with_args": rng.choice(known) + " " + rng.choice(["x", "1 2 3", "ref_", "🦊", "a" * 300]),
            "at_our_name": rng.choice(known) + f"@{BOT_USERNAME}",
            "at_other_bot": rng.choice(known) + "@someone_else_bot",
            "unknown": rng.choice(["/nosuchcommand", "/", "/_", "/ÿ", "/start_", "/123", "/" + "a" * 40]),
            "start_payload": "/start " + rng.choice(["ref_", "ref_zzzz", "ref_" + "9" * 60, "x" * 64, "-_-"]),
            "start_invite": f"/start ref_{code}" if code else "/start ref_nobody",
            "paysupport_question": "/paysupport " + rng.choice(["refund please", "?" * 3000, "<b>hi</b>"]),
            "admin_args": "/admin "
            + rng.choice(["user 1", "user ²", "adjust 1 +5 x", "stuck", "reply 1 hi", "x"]),
        }
        case = rng.choice(sorted(cases))
        await self.text(cases[case], "command", case, step)

    async def fuzz_edited(self, step: str, **_: Any) -> None:
        payload = {
            "from": self.me(),
            "text": self.rng.choice(["/start", "edited", "x" * 5000]),
            "edit_date": int(time.time()),
        }
        await self.raw(
            "edited_message", payload, "edited_message", "edited", step, expect=None, counted=False
        )

    async def fuzz_channel_post(self, step: str, **_: Any) -> None:
        chat = {"id": -1001234567890, "type": "channel", "title": "Fuzz channel"}
        kind = self.rng.choice(["channel_post", "edited_channel_post"])
        payload = {"chat": chat, "text": self.rng.choice(["/start", "post", "/admin"]), "sender_chat": chat}
        await self.raw(kind, payload, "channel_post", kind, step, expect=None, counted=False)

    async def fuzz_inline(self, step: str, **_: Any) -> None:
        kind = self.rng.choice(["inline_query", "chosen_inline_result"])
        if kind == "inline_query":
            payload = {"from": self.me(), "query": self.rng.choice(["", "fox", "🦊" * 64]), "offset": ""}
        else:
            payload = {"result_id": "1", "from": self.me(), "query": "fox"}
        await self.raw(kind, payload, "inline_query", kind, step, expect=None, counted=False)

    async def fuzz_unknown(self, step: str, **_: Any) -> None:
        rng = self.rng
        cases = {
            "future_type": ("some_future_update", {"from": self.me(), "x": [1, {"y": None}]}),
            "poll": (
                "poll",
                {
                    "id": "1",
                    "question": "?",
                    "options": [],
                    "total_voter_count": 0,
                    "is_closed": True,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                    "allows_revoting": False,
                    "members_only": False,
                },
            ),
            "message_reaction": (
                "message_reaction",
                {
                    "chat": {"id": self.id, "type": "private"},
                    "message_id": 1,
                    "user": self.me(),
                    "date": int(time.time()),
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                },
            ),
            "chat_join_request": (
                "chat_join_request",
                {
                    "chat": {"id": -100, "type": "supergroup", "title": "g"},
                    "from": self.me(),
                    "user_chat_id": self.id,
                    "date": int(time.time()),
                },
            ),
            "shipping_query": (
                "shipping_query",
                {
                    "from": self.me(),
                    "invoice_payload": "x",
                    "shipping_address": {
                        "country_code": "XX",
                        "state": "",
                        "city": "c",
                        "street_line1": "s",
                        "street_line2": "",
                        "post_code": "0",
                    },
                },
            ),
        }
        case = rng.choice(sorted(cases))
        kind, payload = cases[case]
        await self.raw(kind, payload, "unknown_update", case, step, expect=None, counted=False)
