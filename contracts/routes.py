"""HTTP paths that one process builds and another serves."""

from __future__ import annotations

# KIE posts a task's outcome here; the path names the workflow, the query carries our HMAC token of it.
KIE_CALLBACK_ROUTE = "/kie/callback/{workflow_id}"
KIE_CALLBACK_TOKEN_PARAM = "t"


def kie_callback_url(public_base_url: str, workflow_id: str, token: str) -> str:
    """The ``callBackUrl`` given to KIE for one generation (served by ``webhooks.app``)."""
    path = KIE_CALLBACK_ROUTE.format(workflow_id=workflow_id)
    return f"{public_base_url.rstrip('/')}{path}?{KIE_CALLBACK_TOKEN_PARAM}={token}"
