"""A faithful, in-process simulator of the KIE API (see README.md next to this file).

sim = KieSimulator(KieSimConfig(latency=0.2, webhook_hmac_key="k", seed=7))
base_url = await sim.start()
"""

from simulators.kie.config import KieSimConfig
from simulators.kie.server import KieSimulator

__all__ = ["KieSimConfig", "KieSimulator"]
