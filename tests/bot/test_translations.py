"""Every text the bot and the activities show has a Russian translation in locales/ru/.../messages.po."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "translate": None, "lazy_gettext": None}


def used_msgids() -> dict[str, str]:
    """msgid -> where it is used, from bot/, activities/ and genflow/ (Babel's Python extractor)."""
    found: dict[str, str] = {}
    for directory in ("bot", "activities", "genflow"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, str) and message:  # a call with a variable is no msgid
                found.setdefault(message, f"{directory}/{filename}:{lineno}")
    return found


def test_every_msgid_has_a_russian_translation():
    with (ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    used = used_msgids()
    assert len(used) > 100  # the extraction really looked at the code
    translated = {message.id for message in catalog if message.string}
    missing = {msgid: where for msgid, where in used.items() if msgid not in translated}
    assert not missing, missing


def test_placeholders_survive_translation():
    with (ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    broken = [m.id for m in catalog if m.id and m.string and fields(m.id) != fields(m.string)]
    assert not broken, broken
