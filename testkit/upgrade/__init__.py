"""A rolling upgrade with a workflow change (`make upgrade`): generations started on version A of the
worker, the worker replicas replaced one by one with version B, whose ``GenerationWorkflow`` changed behind
``workflow.patched`` (``version_b``, run by ``python -m testkit.upgrade.worker_b``); every generation of A
must finish and none may fail a replay. docs/deploy.md ("Rolling upgrades") says why patching, not Worker
Versioning.

``python -m bench.upgrade`` runs the full plan (100 generations), ``tests/scale/test_upgrade.py`` a reduced
one inside ``make test``: the run is ``rollout``, the checks and figures ``verdict``. Nothing is imported
here: the version B worker imports this package and should carry only the worker and ``version_b``.
"""
