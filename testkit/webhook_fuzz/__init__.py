"""Hostile requests against ``POST /kie/callback/{workflow_id}``: none may signal, none may get a 5xx.

Requests are forged (bad or borrowed URL tokens), malformed (paths, methods, bodies), oversized (with and
without Content-Length, a gzip bomb), replayed (genuinely signed callbacks outside the signature window, or
moved to another generation's URL) and wrongly signed; a share is raw HTTP written to the socket. The targets
are real generations waiting for a KIE task that never finishes, so any request that got through would show as
a ``WorkflowExecutionSignaled`` event in their histories and in ``callbacks_received``.

An exact replay of a genuine callback inside the signature window is *accepted* by design (KIE's own retries
look the same) and de-duplicated by the workflow; it is therefore not part of this set.

``run_fuzz`` runs it on a :class:`testkit.harness.Harness`; ``python -m bench.fuzz`` and ``make chaos`` are
its command lines, ``tests/fuzz/test_webhook_fuzz.py`` a short run inside ``make test``.
"""

from testkit.webhook_fuzz.forger import MAX_BODY, Forger, Probe
from testkit.webhook_fuzz.run import FuzzPlan, FuzzReport, run_fuzz
from testkit.webhook_fuzz.sending import send

__all__ = ["MAX_BODY", "Forger", "FuzzPlan", "FuzzReport", "Probe", "run_fuzz", "send"]
