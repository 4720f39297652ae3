"""One module per KIE API family; each owns its routes and wire shapes."""

from simulators.kie.families.base import Family
from simulators.kie.families.images import FluxKontext, Gpt4oImage
from simulators.kie.families.market import Market
from simulators.kie.families.midjourney import Midjourney
from simulators.kie.families.runway import Aleph, Runway
from simulators.kie.families.suno import Suno
from simulators.kie.families.veo import Veo, VeoUpgrade

FAMILIES: tuple[type[Family], ...] = (
    Market,
    Veo,
    VeoUpgrade,
    Runway,
    Aleph,
    Suno,
    Gpt4oImage,
    FluxKontext,
    Midjourney,
)

__all__ = ["FAMILIES", "Family"]
