"""Every text the bot and the activities show has a Russian translation in locales/ru/.../messages.po."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "translate": None,
    "lazy_gettext": None,
    "ntranslate": (1, 2),
    "N_": None,
}


def used_msgids() -> dict[str, str]:
    """msgid -> where it is used, from bot/, activities/, catalog/ and genflow/ (Babel's Python extractor);
    a plural message is known by its singular msgid."""
    found: dict[str, str] = {}
    for directory in ("bot", "activities", "catalog", "genflow"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, tuple):
                message = message[0]
            if isinstance(message, str) and message:  # a call with a variable is no msgid
                found.setdefault(message, f"{directory}/{filename}:{lineno}")
    return found


def test_every_msgid_has_a_russian_translation():
    with (ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    used = used_msgids()
    assert len(used) > 100  # the extraction really looked at the code
    translated = {
        message.id[0] if isinstance(message.id, tuple) else message.id
        for message in catalog
        if message.string and (isinstance(message.string, str) or all(message.string))
    }
    missing = {msgid: where for msgid, where in used.items() if msgid not in translated}
    assert not missing, missing


def test_placeholders_survive_translation():
    with (ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    broken = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(fields(i) for i in ids))
        # A plural form may leave {n} out ("один файл"), never add or lose anything else.
        broken += [s for s in strings if fields(s) - wanted or (wanted - fields(s)) - {"n"}]
    assert len(catalog) > 200 and not broken, broken
