"""Forged callback data, as raw strings in the shapes of ``contracts.buttons`` (``<prefix>:<field>:…``) or
deliberately not: data that does not unpack, buttons of the bot's previous version, another user's
generation key, a form's inputs out of range, another form's id, a wrong confirmation key, admin buttons.

The cases named in ``REFUSED_*`` name nothing the pressing user has: the bot must answer them with a notice
("This button is out of date", "This form is closed", …: ``REFUSAL_NOTICES``). The others may well name
something real (another user's genuine button, "Generate" pressed early) and only need an answer.
"""

from __future__ import annotations

import random

from contracts.buttons import AdminAction, AdminOp, GenerationOp
from genflow.translations import LANGUAGES, translate

# Known prefixes in shapes that do not unpack or name nothing, unknown prefixes, and the buttons of the bot's
# previous version still on old messages ("c:f:…", "topup:buy:…", "h:r:…").
UNKNOWN_PREFIXES = [
    "zz:1",
    "menu:",
    "menu:nope",
    "menu:home:extra",
    "cf:",
    "cf:x:y",
    "cf:no-such-format:0",
    "cm:",
    "cm:no-such-model",
    "cs:no-such-model",
    "buy:",
    "buy:s0",
    "lang:",
    "lang:de",
    "g:",
    "g:not a key",
    "gen:",
    "gen:cancel:",
    "gen:nope:abc",
    "f:",
    "f::",
    "f:x:y:z:w",
    "adm:u:1",
    "c:f:text-to-image",
    "c:m:nano-banana",
    "topup:buy:s50",
    "h:r:gen-1-x",
    "gen:cancel:gen-1-x-y",
]
GENERATION_OPS = [op.value for op in GenerationOp]
# Forged cases of ``forged_callbacks`` and ``forged_form_ops`` that must be refused with a notice.
REFUSED_CALLBACKS = frozenset(
    {"garbage", "empty", "max_64_bytes", "unknown_prefix", "other_generation", "own_generation"}
)
REFUSED_FORM_OPS = frozenset(
    {
        "index_out_of_range",
        "non_ascii_digit",
        "huge_number",
        "negative",
        "bool_out_of_range",
        "extra_args",
        "old_form",
        "confirmation_key",
    }
)
REFUSAL_NOTICES = frozenset(
    translate(text, language)
    for text in (
        "This button is out of date. Open /menu to start again.",
        "This form is closed. Open /menu to start a new one.",
        "This confirmation is out of date. Open /menu to start again.",
        "This generation is not available.",
        "There is nothing to send again for this generation.",
    )
    for language in LANGUAGES
)


def request_key(rng: random.Random) -> str:
    """A well-formed request key (16 hex digits, as ``bot.forms`` makes them) that names no generation."""
    return f"{rng.getrandbits(64):016x}"


def forged_callbacks(
    rng: random.Random, *, user: int, other_buttons: list[str], other_keys: list[str]
) -> dict[str, str]:
    """Forged data for any screen; ``other_keys`` are request keys of other users' generations."""
    return {
        "other_users_button": rng.choice(other_buttons) if other_buttons else "menu:home",
        "garbage": "".join(rng.choice("abc:/\\%$#@!🦊 ") for _ in range(rng.randint(1, 40))),
        "empty": "",
        "max_64_bytes": ("f:" + "0" * 62)[:64],
        "unknown_prefix": rng.choice(UNKNOWN_PREFIXES),
        # The handler joins the key with the pressing user's id: another user's key finds nothing of theirs.
        "other_generation": f"gen:{rng.choice(GENERATION_OPS)}:"
        + (rng.choice(other_keys) if other_keys else request_key(rng)),
        "own_generation": f"gen:{rng.choice(GENERATION_OPS)}:{request_key(rng)}",
        # Well-formed admin buttons: a non-admin's press falls through to "out of date".
        "admin_button": rng.choice(
            [
                AdminAction(op=AdminOp.PANEL).pack(),
                AdminAction(op=AdminOp.USER, user=user).pack(),
                AdminAction(op=AdminOp.STUCK).pack(),
                AdminAction(op=AdminOp.CONFIRM, ref=request_key(rng)).pack(),
                AdminAction(op=AdminOp.REFUND_GENERATION, user=user, ref=request_key(rng)[:10]).pack(),
            ]
        ),
    }


def forged_form_ops(rng: random.Random, *, fid: str, inputs: int, key: str | None) -> dict[str, str]:
    """Forged buttons of the form ``fid`` in progress (``inputs`` inputs, confirmation key ``key``)."""
    i = rng.randrange(inputs)
    other_fid = fid[:-1] + ("0" if fid[-1:] != "0" else "1")
    return {
        "index_out_of_range": f"f:{fid}:a:{inputs + rng.randint(0, 5)}:",
        "non_ascii_digit": f"f:{fid}:{rng.choice('advpb')}:{rng.choice(['²', '٣', '①'])}:",
        "huge_number": f"f:{fid}:p:{i}:{'9' * rng.randint(12, 40)}",
        "negative": f"f:{fid}:v:{i}:-1",
        "value_out_of_range": f"f:{fid}:v:{i}:{rng.randint(50, 10**6)}",
        "bool_out_of_range": f"f:{fid}:b:{i}:{rng.randint(2, 9)}",
        "other_question": f"f:{fid}:v:{(i + 1) % inputs}:0",
        "clear_required": f"f:{fid}:d:{i}:",
        "go_early": f"f:{fid}:go::",
        "ok_not_asking": f"f:{fid}:ok::",
        "extra_args": f"f:{fid}:ov:1:2:3",
        "old_form": f"f:{other_fid}:ov::",
        "confirmation_key": f"g:{key or 'nokey'}{rng.choice(['x', '-0'])}",
    }


# Admin buttons an admin may press at the panel's steps: ids that are not numbers, out of range or missing,
# unknown references, a wrong confirmation key. None of them may move money.
FORGED_ADMIN = [
    "adm:u:abc:",
    "adm:u::",
    "adm:u:-5:",
    "adm:u:99999999999999999999:",
    "adm:u:²:",
    "adm:adj:x:",
    "adm:adj:99999999999999999999:",
    "adm:rg:1:zzz",
    "adm:rg:abc:",
    "adm:rt::",
    "adm:rt:1:",
    "adm:ok::wrong",
    "adm:ok::",
    "adm:ok",
    "adm:stuck::",
    "adm:panel::",
]
