"""getFile: a file_path to download from /file/bot<token>/<file_path>."""

from __future__ import annotations

from ..config import MB
from ..errors import bad_request
from ..models import JSON
from .registry import Ctx, api_method

DOWNLOAD_LIMIT = 20 * MB  # the public Bot API serves files up to 20 MB


@api_method("getFile")
async def get_file(ctx: Ctx) -> JSON:
    file_id = ctx.params.get_str("file_id", required=True) or ""
    stored = ctx.state.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    if ctx.state.file_bytes(stored) is None:  # evicted by the memory cap
        raise bad_request("file is temporarily unavailable")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }
