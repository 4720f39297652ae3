"""The model catalog: which KIE models the bot offers, their inputs, formats and prices.

Data lives in ``catalog/data`` (models/*.json, formats.toml, prices.toml) and is editable without code;
``get_catalog()`` loads and cross-checks it once per process.

    catalog = get_catalog()
    inputs = catalog.validate("nano-banana-pro", {"prompt": "a cat", "resolution": "4K"})
    catalog.price("nano-banana-pro", inputs).credits  # 24
    catalog.check_media("nano-banana-pro", "image_input", kind="photo", mime_type=None, size=2**20)  # None
"""

from catalog.after import FollowUpSpec, RecipeSpec, RecipeStepSpec
from catalog.catalog import Catalog
from catalog.errors import CatalogDataError, FieldError, Rule, UnknownFormat, UnknownModel, ValidationFailed
from catalog.loading import get_catalog, load_catalog
from catalog.pricing import Price, PriceRule
from catalog.specs import (
    TELEGRAM_DOWNLOAD_LIMIT,
    ConditionalRule,
    FormatSpec,
    InputSpec,
    MediaAccept,
    ModelSpec,
)

__all__ = [
    "TELEGRAM_DOWNLOAD_LIMIT",
    "Catalog",
    "CatalogDataError",
    "ConditionalRule",
    "FieldError",
    "FollowUpSpec",
    "FormatSpec",
    "InputSpec",
    "MediaAccept",
    "ModelSpec",
    "Price",
    "PriceRule",
    "RecipeSpec",
    "RecipeStepSpec",
    "Rule",
    "UnknownFormat",
    "UnknownModel",
    "ValidationFailed",
    "get_catalog",
    "load_catalog",
]
