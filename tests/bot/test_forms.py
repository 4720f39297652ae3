"""The form logic on its own: pure functions over the real catalog."""

from __future__ import annotations

import pytest
from aiogram.types import Audio, Chat, Document, Message, PhotoSize, Voice

from bot import forms
from catalog import get_catalog
from contracts.buttons import FormAction, FormOp, StartForm

CATALOG = get_catalog()


def spec(code: str):
    return CATALOG.by_code(code)


def test_required_inputs_are_asked_first_then_nothing():
    banana = spec("nano-banana")
    assert forms.missing_inputs(CATALOG, banana, {}) == ["prompt"]
    assert forms.next_question(CATALOG, banana, {"prompt": "a cat"}) is None
    edit = spec("nano-banana-edit")
    assert forms.missing_inputs(CATALOG, edit, {}) == ["prompt", "image_urls"]
    # A required input with a default (ElevenLabs' voice) needs no answer.
    tts = spec("el-tts-multi")
    assert forms.needs_answer(tts.user_inputs["text"]) and not forms.needs_answer(tts.user_inputs["voice"])
    assert forms.missing_inputs(CATALOG, tts, {}) == ["text"]


def test_a_model_rule_makes_more_inputs_required():
    suno = spec("suno-music")
    custom = {"prompt": "a song", "customMode": True, "instrumental": False, "model": "V4"}
    missing = forms.missing_inputs(CATALOG, suno, custom)
    assert missing and "prompt" not in missing  # style and title, in custom mode
    assert forms.missing_inputs(CATALOG, suno, {**custom, "customMode": False}) == []


def test_only_the_entered_inputs_errors_are_reported():
    banana = spec("nano-banana")
    assert forms.errors_for(CATALOG, banana, {"prompt": "x" * 5001}, "image_size") == []
    [error] = forms.errors_for(CATALOG, banana, {"prompt": "x" * 5001}, "prompt")
    assert error.rule == "max_length"
    edit = spec("nano-banana-edit")
    assert forms.errors_for(CATALOG, edit, {"prompt": "ok"}, "prompt") == []  # images still missing: fine
    [error] = forms.errors_for(CATALOG, edit, {"image_urls": [f"id{i}" for i in range(11)]}, "image_urls")
    assert error.rule == "max_items"


def test_typed_answers_are_read_for_the_catalog():
    banana, sfx = spec("nano-banana"), spec("el-sfx")
    assert forms.read_text(banana.user_inputs["output_format"], " PNG ") == "png"
    assert forms.read_text(banana.user_inputs["image_size"], "7:3") == "7:3"  # the catalog refuses it
    assert forms.read_text(sfx.user_inputs["loop"], "да") is True
    assert forms.read_text(sfx.user_inputs["loop"], "No") is False
    assert forms.read_text(sfx.user_inputs["loop"], "maybe") == "maybe"
    dialogue = spec("el-dialogue").user_inputs["dialogue"]
    assert forms.read_text(dialogue, '[{"text": "hi", "voice": "Adam"}]') == [{"text": "hi", "voice": "Adam"}]
    assert forms.read_text(dialogue, "not json") == "not json"


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [
        ("nano-banana", "prompt", "text"),
        ("nano-banana", "image_size", "choice"),
        ("el-sfx", "loop", "boolean"),
        ("el-sfx", "duration_seconds", "number"),
        ("el-dialogue", "dialogue", "json"),
        ("nano-banana-edit", "image_urls", "media"),
    ],
)
def test_field_kinds(code: str, name: str, kind: str):
    assert forms.field_kind(spec(code).user_inputs[name]) == kind


def test_files_are_collected_per_input():
    edit, qwen = spec("nano-banana-edit"), spec("qwen-edit")
    values = forms.add_file(edit.user_inputs["image_urls"], {"prompt": "p"}, "f1")
    values = forms.add_file(edit.user_inputs["image_urls"], values, "f2")
    assert (
        values == {"prompt": "p", "image_urls": ["f1", "f2"]} and forms.file_count(values, "image_urls") == 2
    )
    assert forms.max_files(edit.user_inputs["image_urls"]) == 10
    single = forms.add_file(qwen.user_inputs["image_url"], {}, "f1")
    assert forms.add_file(qwen.user_inputs["image_url"], single, "f2") == {"image_url": "f2"}
    assert forms.max_files(qwen.user_inputs["image_url"]) == 1


def _message(**media) -> Message:
    return Message(message_id=1, date=0, chat=Chat(id=1, type="private"), **media)


def test_incoming_media_takes_the_largest_photo_and_any_file():
    sizes = [
        PhotoSize(file_id="small", file_unique_id="s", width=90, height=90, file_size=1000),
        PhotoSize(file_id="large", file_unique_id="l", width=1280, height=1280, file_size=90000),
    ]
    assert forms.incoming_media(_message(photo=sizes)) == forms.IncomingMedia(
        "photo", "large", "image/jpeg", 90000
    )
    document = Document(file_id="d", file_unique_id="d", mime_type="image/png", file_size=5)
    assert forms.incoming_media(_message(document=document)) == forms.IncomingMedia(
        "document", "d", "image/png", 5
    )
    voice = Voice(file_id="v", file_unique_id="v", duration=3, mime_type="audio/ogg")
    assert forms.incoming_media(_message(voice=voice)).kind == "voice"
    audio = Audio(file_id="a", file_unique_id="a", duration=3)
    assert forms.incoming_media(_message(audio=audio)).kind == "audio"
    assert forms.incoming_media(_message(text="hi")) is None


def test_choices_are_paged():
    voices = spec("el-tts-multi").user_inputs["voice"]
    first, pages = forms.choice_page(voices, 0)
    assert pages == 4 and len(first) == forms.CHOICES_PER_PAGE and first[0] == (0, voices.enum[0])
    last, _ = forms.choice_page(voices, 99)  # clamped
    assert last[-1] == (len(voices.enum) - 1, voices.enum[-1])


def test_values_are_shown_short():
    banana, edit, sfx = spec("nano-banana"), spec("nano-banana-edit"), spec("el-sfx")
    assert (
        forms.show_value(banana.user_inputs["prompt"], "word " * 30, "en", limit=20) == "word word word word…"
    )
    assert forms.show_value(banana.user_inputs["prompt"], None, "en") is None
    assert forms.show_value(edit.user_inputs["image_urls"], ["a", "b"], "en") == "📎 ×2"
    assert forms.show_value(sfx.user_inputs["loop"], True, "ru") == "да"
    assert forms.show_value(sfx.user_inputs["duration_seconds"], 2.5, "ru") == "2,5"


def test_a_form_survives_the_fsm_and_stored_inputs_prefill_it():
    form = forms.new_form("google/nano-banana", {"prompt": "a cat"})
    form.asking, form.key = "image_size", forms.new_request_key()
    assert forms.Form.from_data({"form": form.to_data()}) == form
    assert forms.Form.from_data({}) is None and forms.Form.from_data({"form": {"old": 1}}) is None
    assert len(form.key) == 16 and len(f"g:{form.key}") <= 64
    stored = {"prompt": "a cat", "image_size": "1:1", "output_format": "png", "nsfw_checker": True}
    assert forms.prefill(spec("nano-banana"), stored) == {
        "prompt": "a cat",
        "image_size": "1:1",
        "output_format": "png",
    }


def test_every_models_buttons_fit_in_callback_data():
    for model in CATALOG.models.values():
        fields = forms.field_names(model)
        longest_choice = max((len(f.enum or []) for f in model.user_inputs.values()), default=0)
        # pack() refuses data over Telegram's 64 bytes: the longest form button and the Start button fit.
        choice = max(longest_choice - 1, 0)
        last = FormAction(form="f" * 6, op=FormOp.CHOOSE, index=len(fields) - 1, value=choice)
        assert len(last.pack().encode()) <= 64 and len(StartForm(code=model.code).pack().encode()) <= 64
