"""Bot API call parameters, read the way Telegram reads them.

A call can come as a query string, form-urlencoded (nested objects as JSON strings), JSON, or
multipart with uploaded files that other parameters reference as ``attach://<name>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from .config import MB
from .errors import bad_request, too_large

# No single Bot API upload may exceed 50 MB: stop reading a part past that instead of buffering it.
MAX_PART_BYTES = 50 * MB


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


class Params:
    def __init__(self, fields: dict[str, Any], files: dict[str, UploadedFile] | None = None) -> None:
        self.fields = fields
        self.files = files or {}

    def has(self, name: str) -> bool:
        return self.fields.get(name) not in (None, "") or name in self.files

    def raw(self, name: str) -> Any:
        return self.fields.get(name)

    def get_str(self, name: str, *, required: bool = False) -> str | None:
        value = self.fields.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        value = self.fields.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'invalid {name} specified: "{value}" is not a number') from None

    def get_bool(self, name: str) -> bool:
        value = self.fields.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        """A nested object: a JSON string in forms, already parsed in JSON bodies."""
        value = self.fields.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def media(self, name: str) -> str | UploadedFile | None:
        """A file parameter: an upload (direct or ``attach://``), a URL or a file_id."""
        if name in self.files:
            return self.files[name]
        return self.resolve(self.get_str(name))

    def resolve(self, value: str | None) -> str | UploadedFile | None:
        if value and value.startswith("attach://"):
            attached = self.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"file {value} not found in the request")
            return attached
        return value

    def summary(self) -> dict[str, Any]:
        """What the call log shows: JSON strings decoded, files described instead of dumped."""
        out: dict[str, Any] = {}
        for key, value in self.fields.items():
            if isinstance(value, str) and value[:1] in "[{":
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            out[key] = value
        for key, upload in self.files.items():
            out[key] = {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(upload.data),
            }
        return out


async def read_params(request: web.Request) -> Params:
    fields: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.body_exists:
        return Params(fields)
    content_type = request.content_type
    if content_type == "multipart/form-data":
        uploaded = await read_multipart(await request.multipart())
        fields.update(uploaded.fields)
        files = uploaded.files
    elif content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("JSON object expected")
        fields.update(body)
    else:
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise too_large() from None
        fields.update({key: value for key, value in form.items() if isinstance(value, str)})
    return Params(fields, files)


async def read_multipart(reader: MultipartReader) -> Params:
    fields: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is None:
            fields[part.name] = await part.text()
        else:
            data = await _read_capped(part)
            content = part.headers.get("Content-Type", "application/octet-stream")
            files[part.name] = UploadedFile(part.name, part.filename, content, data)
    return Params(fields, files)


async def _read_capped(part: BodyPartReader) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(1024 * 1024):
        size += len(chunk)
        if size > MAX_PART_BYTES:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)
