"""HTTP paths that one process builds and another serves."""

from __future__ import annotations

from urllib.parse import urlencode

# KIE posts a task's outcome here; the path names the workflow, the query carries our HMAC token of it and
# the generation's model (which KIE adapter reads the body: for the timeline only, never trusted), so the
# webhooks server needs no database read to signal.
KIE_CALLBACK_ROUTE = "/kie/callback/{workflow_id}"
KIE_CALLBACK_TOKEN_PARAM = "t"
KIE_CALLBACK_MODEL_PARAM = "m"


def kie_callback_url(public_base_url: str, workflow_id: str, token: str, model_id: str | None = None) -> str:
    """The ``callBackUrl`` given to KIE for one generation (served by ``webhooks.app``)."""
    path = KIE_CALLBACK_ROUTE.format(workflow_id=workflow_id)
    query = {KIE_CALLBACK_TOKEN_PARAM: token}
    if model_id is not None:
        query[KIE_CALLBACK_MODEL_PARAM] = model_id
    return f"{public_base_url.rstrip('/')}{path}?{urlencode(query)}"
