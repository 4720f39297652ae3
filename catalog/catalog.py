"""The catalog: every model, the format menu and the price list, with lookups, validation and pricing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from catalog.errors import FieldError, UnknownFormat, UnknownModel, ValidationFailed
from catalog.pricing import Price, PriceRule, compute_price, describe_price, starting_price
from catalog.specs import FormatSpec, ModelSpec
from catalog.validation import validate_inputs


class Catalog:
    """Read-only after construction; build it with ``load_catalog()`` or use the shared ``get_catalog()``."""

    def __init__(
        self, models: Iterable[ModelSpec], formats: Iterable[FormatSpec], prices: Mapping[str, PriceRule]
    ) -> None:
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

    def price_rule(self, model_id: str) -> PriceRule:
        self.get(model_id)
        return self._prices[model_id]

    def price(self, model_id: str, validated_inputs: Mapping[str, Any]) -> Price:
        """What a generation with these (validated) inputs costs."""
        return compute_price(self.price_rule(model_id), self.get(model_id), dict(validated_inputs))

    def starting_price(self, model_id: str) -> int:
        """The lowest price over all options, for "from N credits" in menus."""
        return starting_price(self.price_rule(model_id), self.get(model_id))

    def describe_price_rules(self, model_id: str, lang: str) -> str:
        """The model's price list for its card, e.g. "1K/2K — 18, 4K — 24 credits"."""
        return describe_price(self.price_rule(model_id), self.get(model_id), lang)
