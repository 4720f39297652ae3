"""Errors of the catalog: unknown ids, bad data files, and user input that does not fit a model.

``FieldError`` is plain serialisable data (it crosses Temporal payloads) and carries the field's localized
title, so ``message(lang)`` renders without the catalog at hand.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from catalog.messages import field_error_message

Rule = Literal[
    "required",  # a required input is missing or empty; limits may hold the model rule's "when"
    "type",  # the value cannot be read as the input's type; limits {"expected": type}
    "enum",  # not one of the allowed values; limits {"allowed": [...]}
    "min",  # number below the minimum; limits {"min": x}
    "max",  # number above the maximum; limits {"max": x}
    "min_length",  # text too short, in characters; limits {"min": n}
    "max_length",  # text too long, in characters; limits {"max": n}
    "min_items",  # too few files/items; limits {"min": n}
    "max_items",  # too many files/items; limits {"max": n}
    "unknown_field",  # the model has no such input; limits {"allowed": [user input names]}
    "system_field",  # the product fills this input, the user may not
    "disabled_model",  # the model is switched off in the catalog
    # A file the user sent for a media input (Catalog.check_media); limits {"kinds", "mime_types",
    # "formats", "max_bytes", "max_mb"} say what is accepted.
    "media_kind",  # not the kind of media the input takes (a video for a photo); actual: what was sent
    "media_type",  # the right kind in a format the model does not read (a GIF); actual: the MIME type
    "media_size",  # larger than the model's per-file limit or Telegram's 20 MB; actual: the size in bytes
]


class FieldError(BaseModel):
    """One reason why inputs were refused."""

    model_config = ConfigDict(frozen=True)

    field: str  # input name; "" for model-level errors
    rule: Rule
    limits: dict[str, Any] = {}
    actual: Any = None  # what was compared: the number, the character count or the item count
    title: dict[str, str] = {}  # the input's title per language
    media: bool = False  # counts are files, not items
    reason: dict[str, str] | None = None  # the model rule's condition, e.g. {"en": "in custom mode", ...}

    def message(self, lang: str) -> str:
        """A sentence for the user in ``lang`` (ru or en; other languages get English)."""
        return field_error_message(self, lang)


class ValidationFailed(ValueError):
    """User inputs do not fit the model; ``errors`` lists every problem found, not just the first."""

    def __init__(self, model_id: str, errors: list[FieldError]) -> None:
        self.model_id = model_id
        self.errors = errors
        super().__init__(f"{model_id}: " + " ".join(error.message("en") for error in errors))

    def messages(self, lang: str) -> list[str]:
        return [error.message(lang) for error in self.errors]


class UnknownModel(LookupError):
    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        super().__init__(f"unknown model: {model_id!r}")


class UnknownFormat(LookupError):
    def __init__(self, format_id: str) -> None:
        self.format_id = format_id
        super().__init__(f"unknown format: {format_id!r}")


class CatalogDataError(ValueError):
    """The data files are inconsistent; ``problems`` names each one with its file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("catalog data is invalid:\n  " + "\n  ".join(problems))
