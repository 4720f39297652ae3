"""The generation form, derived from the catalog: which input to ask next, how to read an answer, what to
show.

Pure functions over the catalog and plain values (what the FSM stores): no Telegram calls, unit-tested.
Values are kept as the user gave them (text, a button's value, Telegram file ids); the catalog coerces and
validates them, so the bot and the workflow agree on what is valid.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aiogram.types import Message

from catalog import Catalog, FieldError, InputSpec, ModelSpec, ValidationFailed
from catalog.after import takes
from catalog.messages import format_value
from db import GenerationRecord

FieldKind = Literal["media", "choice", "boolean", "number", "json", "text"]
TelegramMediaKind = Literal["photo", "document", "video", "video_note", "animation", "audio", "voice"]

CHOICES_PER_PAGE = 24
FORM_KEY = "form"

_YES = frozenset({"yes", "y", "true", "on", "1", "да", "д"})
_NO = frozenset({"no", "n", "false", "off", "0", "нет", "н"})


# ---- the form's state, as stored in FSM data -------------------------------------------------------------


@dataclass
class Form:
    """One form in progress. ``fid`` tags its buttons so a button of an older form is recognised as stale."""

    fid: str
    model_id: str
    values: dict[str, Any] = field(default_factory=dict)
    asking: str | None = None  # the input the next message answers
    page: int = 0  # page of the choice buttons being shown
    key: str | None = None  # request key of the confirmation card on screen
    parent: str | None = None  # a follow-up: the generation whose result it continues
    copies: int = 1  # "more like this": this many generations at once

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Form | None:
        raw = data.get(FORM_KEY)
        if not isinstance(raw, dict):
            return None
        try:
            return cls(**raw)
        except TypeError:  # written by another version of the bot: start over rather than crash
            return None


def new_form(
    model_id: str, values: dict[str, Any] | None = None, *, parent: str | None = None, copies: int = 1
) -> Form:
    return Form(
        fid=secrets.token_hex(3), model_id=model_id, values=dict(values or {}), parent=parent, copies=copies
    )


SEED = "seed"  # the input a model's randomness is seeded with, where it has one
MAX_SEED = 2**31 - 1


def new_seed(spec: ModelSpec, values: dict[str, Any]) -> dict[str, Any]:
    """The same inputs with a new random seed, for models that take one (a re-roll, another variant)."""
    field = spec.user_inputs.get(SEED)
    if field is None:
        return dict(values)
    top = int(field.maximum) if field.maximum is not None else MAX_SEED
    low = int(field.minimum) if field.minimum is not None else 0
    return {**values, SEED: secrets.randbelow(top - low + 1) + low}


def copies(spec: ModelSpec, form: Form, key: str) -> list[tuple[str, dict[str, Any]]]:
    """The generations a confirmed card starts: its key and inputs, and for "more like this" a copy per
    variant (``<key>-2``…), each with its own seed where the model takes one."""
    if form.copies <= 1:
        return [(key, form.values)]
    return [(key if n == 1 else f"{key}-{n}", new_seed(spec, form.values)) for n in range(1, form.copies + 1)]


def new_request_key() -> str:
    """The key of one confirmation card: its Generate button, the workflow id and the claim all use it."""
    return secrets.token_hex(8)


def prefill(spec: ModelSpec, inputs: dict[str, Any]) -> dict[str, Any]:
    """A generation's stored inputs as form values: only what the user may set (not system inputs)."""
    return {name: value for name, value in inputs.items() if name in spec.user_inputs}


# ---- the model's inputs ----------------------------------------------------------------------------------


def field_kind(spec: InputSpec) -> FieldKind:
    if spec.media:
        return "media"
    if spec.enum:
        return "choice"
    if spec.type == "boolean":
        return "boolean"
    if spec.type in ("number", "integer"):
        return "number"
    if spec.type == "array":
        return "json"
    return "text"


def max_files(spec: InputSpec) -> int:
    return (spec.max_items or 10) if spec.type == "array" else 1


def field_names(spec: ModelSpec) -> list[str]:
    """User inputs in documentation order: a field's index in this list goes into callback data."""
    return list(spec.user_inputs)


def field_at(spec: ModelSpec, index: int) -> InputSpec | None:
    names = field_names(spec)
    return spec.user_inputs[names[index]] if 0 <= index < len(names) else None


def field_index(spec: ModelSpec, name: str) -> int:
    return field_names(spec).index(name)


def needs_answer(spec: InputSpec) -> bool:
    """Required and without a default: the form asks for it before offering anything else."""
    return spec.required and spec.default is None


# ---- validation ------------------------------------------------------------------------------------------


def check(catalog: Catalog, model_id: str, values: dict[str, Any]) -> list[FieldError]:
    """Every problem with the whole form (empty when it is ready to price)."""
    try:
        catalog.validate(model_id, values)
    except ValidationFailed as failed:
        return failed.errors
    return []


def missing_inputs(catalog: Catalog, spec: ModelSpec, values: dict[str, Any]) -> list[str]:
    """Inputs still to ask for, in form order: required ones, including those a model rule requires now."""
    missing = {error.field for error in check(catalog, spec.id, values) if error.rule == "required"}
    return [name for name in spec.user_inputs if name in missing]


def next_question(catalog: Catalog, spec: ModelSpec, values: dict[str, Any]) -> str | None:
    missing = missing_inputs(catalog, spec, values)
    return missing[0] if missing else None


def errors_for(catalog: Catalog, spec: ModelSpec, values: dict[str, Any], name: str) -> list[FieldError]:
    """Problems of the input just entered, judged with the rest of the (partial) form."""
    return [error for error in check(catalog, spec.id, values) if error.field == name]


def read_text(spec: InputSpec, text: str) -> Any:
    """A typed answer as a value for the catalog: choices matched case-insensitively, lists parsed as JSON."""
    text = text.strip()
    kind = field_kind(spec)
    if kind == "choice":
        for option in spec.enum or []:
            if str(option).lower() == text.lower():
                return option
        return text
    if kind == "boolean":
        word = text.lower()
        return True if word in _YES else False if word in _NO else text
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError:
            return text  # the catalog reports "expected a list"
    return text


def choice_page(spec: InputSpec, page: int) -> tuple[list[tuple[int, Any]], int]:
    """(index, value) of the choices on ``page`` and the number of pages."""
    options = list(enumerate(spec.enum or []))
    pages = max(1, -(-len(options) // CHOICES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    return options[page * CHOICES_PER_PAGE : (page + 1) * CHOICES_PER_PAGE], pages


# ---- media -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingMedia:
    kind: TelegramMediaKind
    file_id: str
    mime_type: str | None = None
    size: int | None = None


def incoming_media(message: Message) -> IncomingMedia | None:
    """The file in a message (forwarded ones too): the largest photo size, or the one media object."""
    if message.photo:
        photo = message.photo[-1]
        return IncomingMedia("photo", photo.file_id, "image/jpeg", photo.file_size)
    for kind in ("video", "video_note", "animation", "audio", "voice", "document"):
        media = getattr(message, kind, None)
        if media is not None:
            return IncomingMedia(kind, media.file_id, getattr(media, "mime_type", None), media.file_size)
    return None


def add_file(spec: InputSpec, values: dict[str, Any], file_id: str) -> dict[str, Any]:
    """Values with this file added: appended to a list input, or replacing a single file."""
    if spec.type == "array":
        current = values.get(spec.name)
        files = list(current) if isinstance(current, list) else []
        return {**values, spec.name: [*files, file_id]}
    return {**values, spec.name: file_id}


def file_count(values: dict[str, Any], name: str) -> int:
    value = values.get(name)
    if isinstance(value, list):
        return len(value)
    return 1 if value else 0


# ---- showing values --------------------------------------------------------------------------------------


def current_value(spec: InputSpec, values: dict[str, Any]) -> Any:
    return values.get(spec.name, spec.default)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_value(spec: InputSpec, value: Any, lang: str, limit: int = 40) -> str | None:
    """A value as a short text; None when nothing is set."""
    if value is None or value == "" or value == []:
        return None
    if spec.media:
        count = len(value) if isinstance(value, list) else 1
        return f"📎 ×{count}"
    if isinstance(value, (list, dict)):
        return shorten(json.dumps(value, ensure_ascii=False), limit)
    return shorten(format_value(value, lang), limit)


# KIE's result URLs live about a day: an older result goes to the next model from Telegram (by file id).
RESULT_URL_FRESH = dt.timedelta(hours=12)


def follow_up_values(spec: ModelSpec, parent: GenerationRecord, now: dt.datetime) -> dict[str, Any] | None:
    """The form values a follow-up of ``parent`` starts with: its KIE task for a follow-up on the task
    (an upgrade, an extend), else its result in the model's media input of that kind (KIE's URL while it
    is fresh, else the file as Telegram keeps it). None when the model takes nothing of the result."""
    result = parent.result if isinstance(parent.result, dict) else {}
    files = [f for f in result.get("files") or [] if isinstance(f, dict) and f.get("url")]
    for name, input_spec in spec.user_inputs.items():
        if input_spec.task_id and result.get("task_id"):
            return {name: result["task_id"]}
    media = takes(spec, str(files[0].get("media_type"))) if files else None
    if media is None:
        return None
    file = str(files[0]["url"])
    file_ids = parent.telegram_file_ids if isinstance(parent.telegram_file_ids, list) else []
    sent = next((str(i) for i in file_ids if not str(i).startswith(("link:", "message:"))), None)
    if sent and (parent.finished_at is None or now - parent.finished_at > RESULT_URL_FRESH):
        file = sent
    return {media: [file] if spec.inputs[media].type == "array" else file}
