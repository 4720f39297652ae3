"""Reading KIE's answers through the adapters, as the mutation tests (``test_mutations_*``) do."""

from __future__ import annotations

from typing import Any

from kie.adapters import adapter_for
from kie.models import CallbackInfo, TaskStatus
from tests.kie.support import Model, load


def status(body: Any, model: Model, **kwargs: Any) -> TaskStatus:
    return adapter_for(model.api).parse_status(body, 200, model, **kwargs)


def callback(body: Any, model: Model) -> CallbackInfo:
    return adapter_for(model.api).parse_callback(body, model)


def market_success() -> dict[str, Any]:
    return load("market_recordInfo_success_openapi.json")


GENERATED = "https://example.com/generated-content.jpg"
