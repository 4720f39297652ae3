"""What the catalog knows about a model: its inputs, texts and rules, as frozen pydantic models.

The data lives in ``catalog/data/models/*.json`` (one file per model); these classes are its schema, so a typo
in a data file fails loudly at load time instead of reaching KIE.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

LANGUAGES = ("ru", "en")
FALLBACK_LANGUAGE = "en"

Api = Literal["market", "veo", "runway", "suno", "gpt4o_image", "flux_kontext", "midjourney"]
Output = Literal["image", "video", "audio"]
InputType = Literal["string", "boolean", "number", "integer", "array"]
ItemType = Literal["uri", "string", "object"]
MediaClass = Literal["image", "video", "audio"]

# Telegram's getFile serves files up to 20 MB: nothing bigger that a user sends can reach KIE.
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
# KIE's documented limits ("up to 10 MB") are read as decimal megabytes, the stricter reading.
KIE_MB = 1_000_000


def _has_all_languages(text: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in LANGUAGES if not text.get(lang, "").strip()]
    if missing:
        raise ValueError(f"missing text for language(s): {', '.join(missing)}")
    return text


LocalizedText = Annotated[dict[str, str], AfterValidator(_has_all_languages)]
"""Text per language code; ``ru`` and ``en`` are required."""


def localized(text: dict[str, str], lang: str) -> str:
    """``text`` in ``lang``, falling back to English for languages we have no text for."""
    return text.get(lang) or text[FALLBACK_LANGUAGE]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_MISSING = object()

# The constraints a conditional rule may tighten; they share names with InputSpec fields.
CONSTRAINT_KEYS = ("enum", "minimum", "maximum", "min_length", "max_length", "min_items", "max_items")
# The schema facts KIE's docs give for an input, as InputSpec names them; `catalog.sync` compares these.
DOC_KEYS = ("type", "required", "enum", "default", *CONSTRAINT_KEYS[1:], "items", "deprecated")
# A model card's "good for" line stays short enough for one line on a phone.
GOOD_FOR_MAX = 70


class MediaAccept(_Frozen):
    """What a media input accepts from the user: kinds of media, MIME types and the size of one file.

    ``max_mb`` is KIE's documented per-file limit (None: the page gives none); the enforced limit,
    ``max_bytes``, never exceeds Telegram's 20 MB download limit, which applies to every file a user sends.
    """

    kinds: list[MediaClass] = Field(min_length=1)
    mime_types: list[str] = Field(min_length=1)
    max_mb: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _types_fit_kinds(self) -> MediaAccept:
        wrong = [
            mime
            for mime in self.mime_types
            if mime != mime.lower() or mime.partition("/")[0] not in self.kinds or "/" not in mime
        ]
        if wrong:
            raise ValueError(f"MIME type(s) not of the accepted kinds {self.kinds}: {', '.join(wrong)}")
        return self

    @property
    def max_bytes(self) -> int:
        """The enforced per-file limit in bytes."""
        if self.max_mb is None:
            return TELEGRAM_DOWNLOAD_LIMIT
        return min(TELEGRAM_DOWNLOAD_LIMIT, int(self.max_mb * KIE_MB))

    @property
    def max_mb_shown(self) -> int | float:
        """The enforced limit as people read it: 10 for KIE's 10 MB, 20 for Telegram's cap."""
        shown = 20.0 if self.max_mb is None else min(self.max_mb, 20.0)
        return int(shown) if float(shown).is_integer() else shown


class DocDeviation(_Frozen):
    """Where an input deliberately differs from KIE's documentation: ``documented`` holds, for each key that
    differs, what the docs say (null: they give none), and ``why`` the reason. ``catalog.sync`` accepts the
    difference only while the docs still say exactly that, so a clean drift check means nothing undeclared."""

    documented: dict[str, Any] = Field(min_length=1)
    why: str = Field(min_length=3)

    @model_validator(mode="after")
    def _known_keys(self) -> DocDeviation:
        if unknown := [key for key in self.documented if key not in DOC_KEYS]:
            raise ValueError(f"unknown schema key(s) {', '.join(unknown)}; use {', '.join(DOC_KEYS)}")
        return self


class InputSpec(_Frozen):
    """One input of a model, as KIE documents it plus what the bot needs to render a form.

    ``system`` inputs are filled by the product, never by the user: ``callBackUrl`` is added by the KIE
    adapter; the others carry the value we always send in ``default`` (no default: never sent).
    For an array of ``{text: ...}`` objects (ElevenLabs dialogue), ``min_length``/``max_length`` count the
    characters of all the texts together.
    """

    name: str
    type: InputType
    required: bool = False
    default: Any = None
    enum: list[Any] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    min_items: int | None = Field(default=None, ge=0)
    max_items: int | None = Field(default=None, ge=1)
    items: ItemType | None = None
    media: bool = False  # set from ModelSpec.media_inputs: the user sends a file (Telegram file id or URL)
    accept: MediaAccept | None = None  # media inputs: what the user may send (kinds, MIME types, size)
    system: bool = False
    deprecated: bool = False
    task_id: bool = False  # the value is a KIE taskId of an earlier generation (e.g. Veo extend)
    title: LocalizedText
    description: str = ""
    doc: DocDeviation | None = None  # a deliberate difference from KIE's docs, with its reason

    def title_for(self, lang: str) -> str:
        return localized(self.title, lang)


class ConditionalRule(_Frozen):
    """A model-specific rule: when every ``when`` input has the given value (null: the input is absent),
    the ``require`` inputs become required and ``constrain`` tightens limits, e.g. Suno custom mode needs a
    style and a title; Runway's 10-second videos are 720p only. ``reason`` is shown to the user."""

    when: dict[str, Any]
    require: list[str] = []
    constrain: dict[str, dict[str, Any]] = {}
    reason: LocalizedText

    def applies_to(self, values: dict[str, Any]) -> bool:
        return all(
            (name not in values) if expected is None else values.get(name, _MISSING) == expected
            for name, expected in self.when.items()
        )


class ModelSpec(_Frozen):
    """A KIE model as the bot offers it. ``inputs`` keep the documentation's order."""

    id: str
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")  # short and ASCII: fits Telegram callback data
    position: int = 100  # menu order within the format
    title: LocalizedText
    description: LocalizedText
    api: Api
    format: str
    output: Output
    enabled: bool = True
    endpoint: str
    status_endpoint: str
    doc_page: str = ""
    inputs: dict[str, InputSpec]
    media_inputs: list[str] = []
    # Media nested inside other inputs, e.g. "kling_elements[].element_input_urls": recorded, not offered.
    nested_media_inputs: list[str] = []
    rules: list[ConditionalRule] = []
    example: dict[str, Any]
    notes: str = ""
    # Model card data. The loader requires `released` and `good_for` of every shipped model.
    released: str | None = Field(
        default=None, pattern=r"^20\d\d-(0[1-9]|1[0-2])$"
    )  # year-month, newest first
    good_for: LocalizedText | None = None  # what it is best at, one short line per language
    usual_seconds: int | None = Field(default=None, gt=0)  # typical generation time; else the format's
    # The models whose delivered results this one upgrades (Veo 1080P/4K, extends): offered under such a
    # result, on its KIE task id (the input marked `task_id`). The loader checks every id exists.
    upgrade_of: list[str] = []

    @field_validator("good_for")
    @classmethod
    def _good_for_is_short(cls, text: dict[str, str] | None) -> dict[str, str] | None:
        if text and (long := [lang for lang, line in text.items() if len(line) > GOOD_FOR_MAX]):
            raise ValueError(f"longer than {GOOD_FOR_MAX} characters in: {', '.join(long)}")
        return text

    @model_validator(mode="before")
    @classmethod
    def _complete_inputs(cls, data: Any) -> Any:
        # The data files key inputs by name and list media fields once; fill both into each InputSpec.
        if isinstance(data, dict) and isinstance(data.get("inputs"), dict):
            media = set(data.get("media_inputs") or [])
            data = dict(data)
            data["inputs"] = {
                name: {**spec, "name": name, "media": name in media} if isinstance(spec, dict) else spec
                for name, spec in data["inputs"].items()
            }
        return data

    @model_validator(mode="after")
    def _check_references(self) -> ModelSpec:
        unknown = [name for name in self.media_inputs if name not in self.inputs]
        for rule in self.rules:
            unknown += [
                name for name in (*rule.when, *rule.require, *rule.constrain) if name not in self.inputs
            ]
            unknown += [
                f"{name}.{key}"
                for name, limits in rule.constrain.items()
                for key in limits
                if key not in CONSTRAINT_KEYS
            ]
        if unknown:
            raise ValueError(f"unknown input(s) or constraint(s) referenced: {', '.join(unknown)}")
        return self

    @property
    def user_inputs(self) -> dict[str, InputSpec]:
        """Inputs the user may send (everything but system fields), in documentation order."""
        return {name: spec for name, spec in self.inputs.items() if not spec.system}

    @property
    def required_inputs(self) -> dict[str, InputSpec]:
        """User inputs KIE requires. Those with a default need no answer from the user."""
        return {name: spec for name, spec in self.user_inputs.items() if spec.required}

    @property
    def optional_inputs(self) -> dict[str, InputSpec]:
        return {name: spec for name, spec in self.user_inputs.items() if not spec.required}

    @property
    def system_inputs(self) -> dict[str, InputSpec]:
        return {name: spec for name, spec in self.inputs.items() if spec.system}

    def title_for(self, lang: str) -> str:
        return localized(self.title, lang)

    def description_for(self, lang: str) -> str:
        return localized(self.description, lang)


class FormatSpec(_Frozen):
    """A menu bucket (text-to-image, ...) with the per-format generation deadline."""

    id: str
    title: LocalizedText
    deadline_seconds: int = Field(gt=0)
    usual_seconds: int = Field(gt=0)

    @model_validator(mode="after")
    def _usual_within_deadline(self) -> FormatSpec:
        if self.usual_seconds > self.deadline_seconds:
            raise ValueError("usual_seconds must not exceed deadline_seconds")
        return self

    def title_for(self, lang: str) -> str:
        return localized(self.title, lang)
