"""What the bot fuzz (testkit/bot_fuzz, `python -m bench.fuzz_bot`) found, one focused test each: update
types the bot does not know, numbers that ``str.isdigit`` accepts but ``int`` does not (², ①) or that do not
fit a PostgreSQL bigint, in form buttons, admin buttons and admin input. Each must get the ordinary "out of
date" or "send a number" answer; the harness fails a test on any error logged.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pytest

from contracts.buttons import (
    AdminAction,
    AdminOp,
)
from tests.bot.conftest import Harness, User, new_user_id
from tests.bot.test_create import open_model

ADMIN = new_user_id()
OUT_OF_DATE = "This button is out of date. Open /menu to start again."
HUGE = "9" * 20  # above 2**63 - 1: int() reads it, PostgreSQL's bigint does not


@pytest.fixture
def bot_overrides() -> dict[str, Any]:
    return {"admin_ids": [ADMIN]}


async def raw(harness: Harness, kind: str, payload: dict[str, Any]) -> None:
    """An update the bot did not ask for (allowed_updates), delivered anyway; waits until it is handled."""
    body = await harness.sim("POST", "/_sim/updates", json={"type": kind, "payload": payload, "force": True})
    await harness.handled(body["update"]["update_id"])


async def test_updates_of_unknown_or_unused_types_are_ignored_quietly(harness: Harness):
    user = await harness.user()
    me = {"id": user.id, "is_bot": False, "first_name": "Ann"}
    # A type newer than aiogram (its Update has no field for it): it used to escape every middleware.
    await raw(harness, "some_future_update", {"from": me, "anything": [1, {"x": None}]})
    await raw(harness, "edited_message", {"from": me, "text": "/start", "edit_date": 1})
    await raw(
        harness, "channel_post", {"chat": {"id": -1001, "type": "channel", "title": "c"}, "text": "/start"}
    )
    await raw(harness, "inline_query", {"from": me, "query": "fox", "offset": ""})
    await user.send("/start")  # and the bot still answers
    assert "What shall we do?" in await user.last_text()


async def test_an_unknown_update_is_logged_without_its_content(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    user = await harness.user()
    me = {"id": user.id, "is_bot": False, "first_name": "Zebediah"}
    with warnings.catch_warnings(record=True) as warned, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        await raw(harness, "some_future_update", {"from": me, "text": "my secret words"})
    # aiogram's own warning quoted the whole update (name, text) into the log.
    assert not [w for w in warned if "unknown update type" in str(w.message)], [
        str(w.message) for w in warned
    ]
    lines = [r for r in caplog.records if r.name == "bot.updates"]
    assert len(lines) == 1 and getattr(lines[0], "fields", None) == ["some_future_update"]
    assert not [r for r in caplog.records if "Zebediah" in r.getMessage() or "secret" in r.getMessage()]


async def test_form_buttons_with_digits_int_cannot_read_are_out_of_date(harness: Harness):
    user = await harness.user()
    await open_model(user, "text-to-image", "nano-banana")
    fid = (await user.fsm())["form"]["fid"]
    question = await user.last()
    for data in (f"f:{fid}:a:²", f"f:{fid}:v:0:①", f"f:{fid}:d:٣", f"f:{fid}:p:0:{HUGE}"):
        await user.tap(question["message_id"], data, force=True)
        assert await user.last_answer() == OUT_OF_DATE, data
    await user.send("a lighthouse")  # the form goes on
    assert "Prompt: a lighthouse" in str((await user.last())["reply_markup"])


async def admin(harness: Harness) -> User:
    return await harness.user(credits=0, user_id=ADMIN)


async def test_forged_admin_buttons_are_out_of_date(harness: Harness):
    user = await admin(harness)
    await user.send("/admin")
    panel = await user.last()
    for data in (
        "adm:u:abc",
        "adm:u:²",
        f"adm:u:{HUGE}",
        "adm:adj:x",
        f"adm:adj:{HUGE}",
        "adm:rg:abc:1",
        "adm:rg:²:1",
        "adm:rt:",
        f"adm:rt:{HUGE}:x",
    ):
        await user.tap(panel["message_id"], data, force=True)
        assert await user.last_answer() == OUT_OF_DATE, data


async def test_admin_user_ids_that_are_not_ids_are_refused(harness: Harness):
    user = await admin(harness)
    await user.send("/admin")
    await user.press(AdminAction(op=AdminOp.FIND))
    for text in ("²", "①", HUGE):
        await user.send(text)
        assert await user.last_text() == "A Telegram user id is a number. Send it again, or /cancel.", text
    for text in (
        f"/admin user {HUGE}",
        "/admin user ²",
        f"/admin adjust {HUGE} +5 why",
        f"/admin reply {HUGE} hi",
    ):
        await user.send(text)
        assert "Admin commands:" in await user.last_text(), text
