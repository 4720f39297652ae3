"""The bot itself: getMe, its command list, settings, and chat actions ("typing…")."""

from __future__ import annotations

import json
import re

from ..errors import bad_request
from ..models import JSON
from .common import target_chat
from .registry import Ctx, api_method

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


@api_method("getMe")
async def get_me(ctx: Ctx) -> JSON:
    return {
        **ctx.bot.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _commands_key(ctx: Ctx) -> tuple[str, str]:
    scope = ctx.params.get_json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), ctx.params.get_str("language_code") or ""


@api_method("setMyCommands")
async def set_my_commands(ctx: Ctx) -> bool:
    commands = ctx.params.get_json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("commands must be an array of at most 100 BotCommand")
    for command in commands:
        if not _COMMAND.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command.get("description") or "") <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    ctx.state.commands[_commands_key(ctx)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@api_method("getMyCommands")
async def get_my_commands(ctx: Ctx) -> list[JSON]:
    return ctx.state.commands.get(_commands_key(ctx), [])


@api_method("deleteMyCommands")
async def delete_my_commands(ctx: Ctx) -> bool:
    ctx.state.commands.pop(_commands_key(ctx), None)
    return True


@api_method("sendChatAction")
async def send_chat_action(ctx: Ctx) -> bool:
    chat = target_chat(ctx)
    action = ctx.params.get_str("action", required=True)
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    ctx.state.emit(chat.id, "chat_action", action=action)
    return True


async def _accept(ctx: Ctx) -> bool:
    return True  # cosmetic settings: recorded in the call log, nothing to simulate


for _name in ("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton"):
    api_method(_name)(_accept)
