"""One adapter per KIE API family, all behind the ``Adapter`` interface."""

from __future__ import annotations

from kie.adapters.base import Adapter, CreateRequest, Method, StatusRequest
from kie.adapters.flux_kontext import FluxKontextAdapter
from kie.adapters.gpt4o_image import Gpt4oImageAdapter
from kie.adapters.market import MarketAdapter
from kie.adapters.midjourney import MidjourneyAdapter
from kie.adapters.runway import RunwayAdapter
from kie.adapters.suno import SunoAdapter
from kie.adapters.veo import VeoAdapter

# Adapters hold no state, so one instance per family serves every caller.
_ADAPTERS: dict[str, Adapter] = {
    adapter.api: adapter
    for adapter in (
        MarketAdapter(),
        VeoAdapter(),
        RunwayAdapter(),
        SunoAdapter(),
        Gpt4oImageAdapter(),
        FluxKontextAdapter(),
        MidjourneyAdapter(),
    )
}


def adapter_for(api: str) -> Adapter:
    """The adapter for a catalog ``api``: market, veo, runway, suno, gpt4o_image, flux_kontext
    or midjourney."""
    try:
        return _ADAPTERS[api]
    except KeyError:
        raise ValueError(f"no KIE adapter for api {api!r}; known: {sorted(_ADAPTERS)}") from None


__all__ = [
    "Adapter",
    "CreateRequest",
    "FluxKontextAdapter",
    "Gpt4oImageAdapter",
    "MarketAdapter",
    "Method",
    "MidjourneyAdapter",
    "RunwayAdapter",
    "StatusRequest",
    "SunoAdapter",
    "VeoAdapter",
    "adapter_for",
]
