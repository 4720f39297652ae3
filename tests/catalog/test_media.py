"""Files users send for media inputs: per-model limits in the data, and Catalog.check_media's rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import (
    TELEGRAM_DOWNLOAD_LIMIT,
    Catalog,
    CatalogDataError,
    FieldError,
    UnknownModel,
    load_catalog,
)

MB = 1_000_000
ALL_MEDIA = [
    (model.id, field)
    for model in __import__("catalog").get_catalog().models.values()
    for field in model.media_inputs
]


# --- the data -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model_id", "field"), ALL_MEDIA, ids=[f"{m}.{f}" for m, f in ALL_MEDIA])
def test_every_media_input_says_what_it_accepts(catalog: Catalog, model_id: str, field: str) -> None:
    accept = catalog.media_accept(model_id, field)
    assert accept is not None
    assert 0 < accept.max_bytes <= TELEGRAM_DOWNLOAD_LIMIT
    assert catalog.media_kind(model_id, field) == accept.kinds
    # What the name promises is what the data says.
    name = field.lower()
    audio = "audio" in name or "voice" in name or field == "uploadUrl"
    expected = "audio" if audio else "video" if "video" in name else "image"
    assert accept.kinds == [expected]
    # A Telegram photo (JPEG) fits every image input; a voice message (OGG) fits most audio inputs.
    if expected == "image":
        assert "image/jpeg" in accept.mime_types


# KIE's documented per-file limits (INDEX.md), capped by Telegram's 20 MB download limit.
LIMITS = [
    ("google/nano-banana-edit", "image_urls", 10 * MB),
    ("qwen/image-edit", "image_url", 10 * MB),
    ("kling-2.6/image-to-video", "image_urls", 10 * MB),
    ("nano-banana-pro", "image_input", TELEGRAM_DOWNLOAD_LIMIT),  # KIE allows 30 MB
    ("nano-banana-2", "image_input", TELEGRAM_DOWNLOAD_LIMIT),
    ("recraft/remove-background", "image", 5 * MB),
    ("topaz/video-upscale", "video_url", TELEGRAM_DOWNLOAD_LIMIT),  # 50 MB
    ("kling-2.6/motion-control", "video_urls", TELEGRAM_DOWNLOAD_LIMIT),  # 100 MB
    ("kling-2.6/motion-control", "input_urls", 10 * MB),
    ("wan/2-7-videoedit", "video_url", TELEGRAM_DOWNLOAD_LIMIT),  # 100 MB
    ("elevenlabs/audio-isolation", "audio_url", 10 * MB),
    ("infinitalk/from-audio", "audio_url", 10 * MB),
    ("kling/ai-avatar-standard", "audio_url", 10 * MB),
    ("bytedance/seedance-2", "reference_audio_urls", 15 * MB),
    ("runway-aleph", "videoUrl", TELEGRAM_DOWNLOAD_LIMIT),  # no limit documented
]


@pytest.mark.parametrize(("model_id", "field", "limit"), LIMITS, ids=[f"{m}.{f}" for m, f, _ in LIMITS])
def test_documented_limits(catalog: Catalog, model_id: str, field: str, limit: int) -> None:
    assert catalog.media_accept(model_id, field).max_bytes == limit


def test_documented_kie_limits_are_kept_as_written(catalog: Catalog) -> None:
    assert catalog.media_accept("nano-banana-pro", "image_input").max_mb == 30
    assert catalog.media_accept("kling-2.6/motion-control", "video_urls").max_mb == 100
    assert catalog.media_accept("flux-kontext", "inputImage").max_mb is None


def test_fields_without_media(catalog: Catalog) -> None:
    assert catalog.media_kind("nano-banana-pro", "prompt") == []
    assert catalog.media_kind("nano-banana-pro", "no_such_field") == []
    assert catalog.media_accept("veo3.1-extend", "taskId") is None
    with pytest.raises(ValueError, match="not a media input"):
        catalog.media_hint("nano-banana-pro", "prompt", "en")
    with pytest.raises(UnknownModel):
        catalog.media_kind("midjourney", "image")


def _edit_model(data_dir: Path, name: str, edit) -> None:
    path = data_dir / "models" / name
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_loader_requires_accept_on_media_inputs(data_copy: Path) -> None:
    _edit_model(data_copy, "qwen_image_edit.json", lambda d: d["inputs"]["image_url"].pop("accept"))
    _edit_model(
        data_copy,
        "qwen_image_edit.json",
        lambda d: d["inputs"]["prompt"].update(accept={"kinds": ["image"], "mime_types": ["image/png"]}),
    )
    with pytest.raises(CatalogDataError) as caught:
        load_catalog(data_copy)
    problems = "\n".join(caught.value.problems)
    assert "models/qwen/image-edit: input 'image_url': a media input needs `accept`" in problems
    assert (
        "models/qwen/image-edit: input 'prompt': `accept` on an input that is not in media_inputs" in problems
    )


@pytest.mark.parametrize(
    "accept",
    [
        {"kinds": ["image"], "mime_types": ["video/mp4"]},
        {"kinds": ["image"], "mime_types": ["Image/PNG"]},
        {"kinds": [], "mime_types": ["image/png"]},
        {"kinds": ["image"], "mime_types": ["image/png"], "max_mb": 0},
        {"kinds": ["picture"], "mime_types": ["picture/png"]},
    ],
)
def test_loader_refuses_inconsistent_accept(data_copy: Path, accept: dict) -> None:
    _edit_model(data_copy, "qwen_image_edit.json", lambda d: d["inputs"]["image_url"].update(accept=accept))
    with pytest.raises(CatalogDataError, match=r"qwen_image_edit\.json"):
        load_catalog(data_copy)


# --- check_media ----------------------------------------------------------------------------------

ACCEPTED = [
    ("a photo", "qwen/image-edit", "image_url", "photo", None, 2 * MB),
    ("a photo with a misleading MIME", "qwen/image-edit", "image_url", "photo", "image/heic", 2 * MB),
    ("an image document", "qwen/image-edit", "image_url", "document", "image/png", 2 * MB),
    ("a WebP document", "qwen/image-edit", "image_url", "document", "image/webp", 2 * MB),
    ("a JPEG with parameters", "qwen/image-edit", "image_url", "document", "IMAGE/JPG; q=1", 2 * MB),
    ("exactly at the limit", "qwen/image-edit", "image_url", "photo", None, 10 * MB),
    ("size unknown", "qwen/image-edit", "image_url", "photo", None, None),
    ("a video", "topaz/video-upscale", "video_url", "video", "video/mp4", 5 * MB),
    ("a video without MIME", "topaz/video-upscale", "video_url", "video", None, 5 * MB),
    ("a MOV document", "topaz/video-upscale", "video_url", "document", "video/quicktime", 5 * MB),
    ("a video note", "topaz/video-upscale", "video_url", "video_note", None, 1 * MB),
    ("an animation", "topaz/video-upscale", "video_url", "animation", "video/mp4", 1 * MB),
    ("a voice message", "elevenlabs/audio-isolation", "audio_url", "voice", None, 100_000),
    ("an MP3", "elevenlabs/audio-isolation", "audio_url", "audio", "audio/mpeg", 3 * MB),
    ("a WAV alias", "elevenlabs/audio-isolation", "audio_url", "audio", "audio/x-wav", 3 * MB),
    ("an M4A document", "suno/upload-cover", "uploadUrl", "document", "audio/x-m4a", 3 * MB),
    ("an audio without MIME", "suno/upload-cover", "uploadUrl", "audio", None, 3 * MB),
    ("big where KIE allows 30 MB", "nano-banana-pro", "image_input", "document", "image/png", 20 * 2**20),
]


@pytest.mark.parametrize(
    ("model_id", "field", "kind", "mime_type", "size"),
    [c[1:] for c in ACCEPTED],
    ids=[c[0] for c in ACCEPTED],
)
def test_accepted_files(
    catalog: Catalog, model_id: str, field: str, kind: str, mime_type: str | None, size: int | None
) -> None:
    assert catalog.check_media(model_id, field, kind=kind, mime_type=mime_type, size=size) is None


REFUSED = [
    ("a video for an image", "qwen/image-edit", "image_url", "video", "video/mp4", MB, "media_kind", "video"),
    ("a voice for an image", "qwen/image-edit", "image_url", "voice", None, MB, "media_kind", "audio"),
    ("a PDF", "qwen/image-edit", "image_url", "document", "application/pdf", MB, "media_kind", "document"),
    ("a document without MIME", "qwen/image-edit", "image_url", "document", None, MB, "media_kind",
     "document"),
    ("a sticker", "qwen/image-edit", "image_url", "sticker", "image/webp", MB, "media_kind", "sticker"),
    ("a photo for a video", "topaz/video-upscale", "video_url", "photo", None, MB, "media_kind", "image"),
    ("a video note for audio", "elevenlabs/audio-isolation", "audio_url", "video_note", None, MB,
     "media_kind", "video"),
    ("a GIF document", "qwen/image-edit", "image_url", "document", "image/gif", MB, "media_type",
     "image/gif"),
    ("a HEIC document", "qwen/image-edit", "image_url", "document", "image/heic", MB, "media_type",
     "image/heic"),
    ("a WebP for Kling motion", "kling-2.6/motion-control", "input_urls", "document", "image/webp", MB,
     "media_type", "image/webp"),
    ("a voice where only WAV/MP3 go", "bytedance/seedance-2", "reference_audio_urls", "voice", None, MB,
     "media_type", "audio/ogg"),
    ("a WebM video", "topaz/video-upscale", "video_url", "video", "video/webm", MB, "media_type",
     "video/webm"),
    ("a video with a non-video MIME", "topaz/video-upscale", "video_url", "video", "application/octet-stream",
     MB, "media_type", None),
    ("over the model's limit", "qwen/image-edit", "image_url", "photo", None, 10 * MB + 1, "media_size",
     10 * MB + 1),
    ("over 5 MB for Recraft", "recraft/remove-background", "image", "document", "image/png", 6 * MB,
     "media_size", 6 * MB),
    ("over Telegram's 20 MB", "nano-banana-pro", "image_input", "document", "image/png", 20 * 2**20 + 1,
     "media_size", 20 * 2**20 + 1),
    ("audio over 10 MB", "kling/ai-avatar-standard", "audio_url", "audio", "audio/mpeg", 11 * MB,
     "media_size", 11 * MB),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model_id", "field", "kind", "mime_type", "size", "rule", "actual"),
    [c[1:] for c in REFUSED],
    ids=[c[0] for c in REFUSED],
)
def test_refused_files(
    catalog: Catalog,
    model_id: str,
    field: str,
    kind: str,
    mime_type: str | None,
    size: int,
    rule: str,
    actual: object,
) -> None:
    error = catalog.check_media(model_id, field, kind=kind, mime_type=mime_type, size=size)
    assert error is not None
    assert (error.field, error.rule, error.actual, error.media) == (field, rule, actual, True)
    accept = catalog.media_accept(model_id, field)
    assert error.limits["kinds"] == accept.kinds and error.limits["max_bytes"] == accept.max_bytes
    for lang in ("ru", "en"):
        assert catalog.media_hint(model_id, field, lang) in error.message(lang)


def test_the_kind_is_checked_before_the_type_and_the_size(catalog: Catalog) -> None:
    error = catalog.check_media(
        "qwen/image-edit", "image_url", kind="video", mime_type="video/webm", size=10**9
    )
    assert error.rule == "media_kind"
    error = catalog.check_media(
        "qwen/image-edit", "image_url", kind="document", mime_type="image/gif", size=10**9
    )
    assert error.rule == "media_type"


def test_fields_that_take_no_file(catalog: Catalog) -> None:
    error = catalog.check_media("qwen/image-edit", "prompt", kind="photo", mime_type=None, size=1)
    assert (error.rule, error.limits["allowed"]) == ("unknown_field", ["image_url"])
    error = catalog.check_media("qwen/image-edit", "nope", kind="photo", mime_type=None, size=1)
    assert error.rule == "unknown_field"
    with pytest.raises(UnknownModel):
        catalog.check_media("midjourney", "image", kind="photo", mime_type=None, size=1)


# --- what the user reads ------------------------------------------------------------------------


def test_hints(catalog: Catalog) -> None:
    assert catalog.media_hint("qwen/image-edit", "image_url", "en") == (
        "Send a photo or an image file (JPEG, PNG, WebP) up to 10 MB."
    )
    assert catalog.media_hint("qwen/image-edit", "image_url", "ru") == (
        "Отправьте фото или изображение файлом (JPEG, PNG, WebP) до 10 МБ."
    )
    assert catalog.media_hint("nano-banana-pro", "image_input", "en").endswith("up to 20 MB.")
    assert catalog.media_hint("topaz/video-upscale", "video_url", "en") == (
        "Send a video (MP4, MOV, MKV) up to 20 MB."
    )
    assert catalog.media_hint("elevenlabs/audio-isolation", "audio_url", "ru") == (
        "Отправьте аудиофайл или голосовое сообщение (MP3, WAV, AAC, M4A, OGG) до 10 МБ."
    )
    # No OGG, so no voice messages.
    assert catalog.media_hint("bytedance/seedance-2", "reference_audio_urls", "en") == (
        "Send an audio file (WAV, MP3) up to 15 MB."
    )
    assert catalog.media_hint("qwen/image-edit", "image_url", "de").startswith("Send")


def test_messages_per_rule(catalog: Catalog) -> None:
    def message(kind: str, mime: str | None, size: int, lang: str) -> str:
        error = catalog.check_media("topaz/image-upscale", "image_url", kind=kind, mime_type=mime, size=size)
        return error.message(lang)

    assert message("video", None, MB, "en") == (
        "Image: a video is not accepted here. Send a photo or an image file (JPEG, PNG, WebP) up to 10 MB."
    )
    assert message("video", None, MB, "ru").startswith("Поле «Изображение»: видео здесь не подходит. ")
    assert message("document", "application/zip", MB, "en").startswith(
        "Image: this kind of file is not accepted here."
    )
    assert message("document", "image/gif", MB, "en").startswith("Image: GIF files are not accepted. Send")
    assert message("document", "image/gif", MB, "ru").startswith(
        "Поле «Изображение»: формат GIF не поддерживается. Отправьте"
    )
    assert message("photo", None, 12_340_000, "en").startswith("Image: the file is too large (12.4 MB). Send")
    assert message("photo", None, 12_340_000, "ru").startswith(
        "Поле «Изображение»: файл слишком большой (12,4 МБ). Отправьте"
    )
    # Just over the limit is never shown as the limit itself.
    assert "(10.1 MB)" in message("photo", None, 10 * MB + 1, "en")


def test_the_error_crosses_payloads(catalog: Catalog) -> None:
    error = catalog.check_media(
        "recraft/remove-background", "image", kind="photo", mime_type=None, size=8 * MB
    )
    copy = FieldError.model_validate(json.loads(error.model_dump_json()))
    assert copy == error
    assert copy.message("en") == (
        "Image: the file is too large (8 MB). Send a photo or an image file (JPEG, PNG, WebP) up to 5 MB."
    )
