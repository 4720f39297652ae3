"""The catalog: every model, the format menu and the price list, with lookups, validation and pricing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from catalog.after import FollowUpSpec, RecipeSpec, takes
from catalog.errors import FieldError, UnknownFormat, UnknownModel, ValidationFailed
from catalog.media import accept_limits
from catalog.media import check_media as check_media_file
from catalog.messages import media_hint
from catalog.pricing import Price, PriceRule, compute_price, describe_price, price_bounds, starting_price
from catalog.specs import FormatSpec, MediaAccept, ModelSpec
from catalog.validation import validate_inputs


class Catalog:
    """Read-only after construction; build it with ``load_catalog()`` or use the shared ``get_catalog()``."""

    def __init__(
        self,
        models: Iterable[ModelSpec],
        formats: Iterable[FormatSpec],
        prices: Mapping[str, PriceRule],
        *,
        followups: Iterable[FollowUpSpec] = (),
        recipes: Iterable[RecipeSpec] = (),
    ) -> None:
        self.followups: list[FollowUpSpec] = list(followups)
        self.recipes: dict[str, RecipeSpec] = {recipe.id: recipe for recipe in recipes}
        self.formats: list[FormatSpec] = list(formats)
        self.models: dict[str, ModelSpec] = {model.id: model for model in models}
        self._formats = {fmt.id: fmt for fmt in self.formats}
        self._codes = {model.code: model for model in self.models.values()}
        self._prices = dict(prices)

    def get(self, model_id: str) -> ModelSpec:
        try:
            return self.models[model_id]
        except KeyError:
            raise UnknownModel(model_id) from None

    def by_code(self, code: str) -> ModelSpec:
        """The model behind a short ``code`` from Telegram callback data."""
        try:
            return self._codes[code]
        except KeyError:
            raise UnknownModel(code) from None

    def format(self, format_id: str) -> FormatSpec:
        try:
            return self._formats[format_id]
        except KeyError:
            raise UnknownFormat(format_id) from None

    def by_format(self, format_id: str) -> list[ModelSpec]:
        """Enabled models of a format, in menu order."""
        self.format(format_id)
        return [model for model in self.models.values() if model.format == format_id and model.enabled]

    def validate(self, model_id: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Normalised inputs ready for KIE (defaults filled, KIE's types), or ``ValidationFailed``."""
        spec = self.get(model_id)
        if not spec.enabled:
            raise ValidationFailed(spec.id, [FieldError(field="", rule="disabled_model")])
        return validate_inputs(spec, inputs)

    # --- files the user sends for media inputs ------------------------------------------------------

    def media_accept(self, model_id: str, field: str) -> MediaAccept | None:
        """What a media input accepts (kinds, MIME types, size); None for a field that takes no file."""
        spec = self.get(model_id).inputs.get(field)
        return spec.accept if spec is not None and spec.media else None

    def media_kind(self, model_id: str, field: str) -> list[str]:
        """The kinds of media a field takes: ``["image"]``, ``["video"]``, ``["audio"]``; [] for no file.

        For the bot's prompt: image → "Send a photo", video → "Send a video", audio → "Send an audio file
        or a voice message" (``media_hint`` has the whole sentence).
        """
        accept = self.media_accept(model_id, field)
        return list(accept.kinds) if accept else []

    def media_hint(self, model_id: str, field: str, lang: str) -> str:
        """What to send, e.g. "Send a photo or an image file (JPEG, PNG, WebP) up to 10 MB."."""
        accept = self.media_accept(model_id, field)
        if accept is None:
            raise ValueError(f"{model_id}: {field!r} is not a media input")
        return media_hint(accept_limits(accept), lang)

    def check_media(
        self, model_id: str, field: str, *, kind: str, mime_type: str | None, size: int | None
    ) -> FieldError | None:
        """Why a file the user sent does not fit a media input, or None when it does.

        ``kind`` is how Telegram delivered it: "photo", "document", "video", "video_note", "audio",
        "voice" or "animation"; ``mime_type`` and ``size`` (bytes) as Telegram reports them (None when it
        does not). Rules: ``media_kind``, ``media_type``, ``media_size``; ``unknown_field`` for a field that
        takes no file, ``disabled_model`` for a switched-off model. ``.message(lang)`` says what is accepted.
        """
        spec = self.get(model_id)
        if not spec.enabled:
            return FieldError(field="", rule="disabled_model")
        field_spec = spec.inputs.get(field)
        if field_spec is None or not field_spec.media or field_spec.system:
            return FieldError(field=field, rule="unknown_field", limits={"allowed": list(spec.media_inputs)})
        return check_media_file(field_spec, kind=kind, mime_type=mime_type, size=size)

    def price_rule(self, model_id: str) -> PriceRule:
        self.get(model_id)
        return self._prices[model_id]

    def price(self, model_id: str, validated_inputs: Mapping[str, Any]) -> Price:
        """What a generation with these (validated) inputs costs."""
        return compute_price(self.price_rule(model_id), self.get(model_id), dict(validated_inputs))

    def starting_price(self, model_id: str) -> int:
        """The lowest price over all options, for "from N credits" in menus."""
        return starting_price(self.price_rule(model_id), self.get(model_id))

    def price_range(self, model_id: str) -> tuple[int, int]:
        """(cheapest, dearest) generation over the model's options and limits, for the model card."""
        return price_bounds(self.price_rule(model_id), self.get(model_id))

    # --- the format-first menu and model cards --------------------------------------------------------

    def newest(self, format_id: str, n: int | None = None) -> list[ModelSpec]:
        """Enabled models of a format, most recently released first (menu order among equals)."""
        models = self.by_format(format_id)  # already in menu order; the sort below is stable
        models.sort(key=lambda model: model.released or "", reverse=True)
        return models[:n] if n is not None else models

    def shortlist(self, format_id: str, n: int, uses: Mapping[str, int] | None = None) -> list[ModelSpec]:
        """The first screen of a format: the ``n`` most used models (``uses``: generations per model id, from
        the caller's statistics), topped up with the newest; "more" shows the rest of ``newest()``."""
        uses = uses or {}
        used = sorted(
            (model for model in self.by_format(format_id) if uses.get(model.id, 0) > 0),
            key=lambda model: -uses[model.id],
        )
        picked = used[: (n + 1) // 2]  # half the screen for the most used, the rest for the newest
        for model in [*self.newest(format_id), *used]:
            if len(picked) >= n:
                break
            if all(model.id != other.id for other in picked):
                picked.append(model)
        return picked

    def usual_seconds(self, model_id: str) -> int:
        """Typical generation time for the model card: the model's own, else its format's."""
        model = self.get(model_id)
        return model.usual_seconds or self.format(model.format).usual_seconds

    # --- after a result: follow-ups and recipes --------------------------------------------------------

    def followups_for(self, model_id: str) -> list[tuple[FollowUpSpec, list[ModelSpec]]]:
        """The follow-up buttons for a result of ``model_id``, each with its enabled models that take the
        result (groups without any are left out)."""
        kind = self.get(model_id).output
        found = []
        for group in self.followups:
            if group.from_ != kind:
                continue
            named = [self.models[m] for m in group.models]
            listed = [m for f in group.formats for m in self.by_format(f)]
            usable = [m for m in [*named, *listed] if m.enabled and takes(m, kind) and m.id != model_id]
            if usable:
                found.append((group, list({m.id: m for m in usable}.values())))
        return found

    def upgrades_of(self, model_id: str) -> list[ModelSpec]:
        """Enabled follow-ups on the task of a result of ``model_id`` (Veo 1080p/4K, extends)."""
        return [m for m in self.models.values() if m.enabled and model_id in m.upgrade_of]

    def recipe(self, recipe_id: str) -> RecipeSpec:
        try:
            return self.recipes[recipe_id]
        except KeyError:
            raise UnknownModel(recipe_id) from None

    def describe_price_rules(self, model_id: str, lang: str) -> str:
        """The model's price list for its card, e.g. "1K/2K — 18, 4K — 24 credits"."""
        return describe_price(self.price_rule(model_id), self.get(model_id), lang)
