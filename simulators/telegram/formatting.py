"""Formatted text as Telegram sees it: parse_mode markup becomes plain text plus entities.

Lengths are counted in UTF-16 code units (an emoji can count twice), after markup is removed:
a 4096-character limit applies to what the user reads, not to the HTML the bot sent.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from .errors import ApiError, bad_request

Entity = dict[str, Any]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_formatted(
    text: str, parse_mode: str | None, entities: list[Entity] | None
) -> tuple[str, list[Entity]]:
    """Plain text and entities; explicit entities win over parse_mode, as in the Bot API."""
    if entities:
        return text, entities
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _HtmlParser().run(text)
    if mode == "markdownv2":
        return _parse_markdown(text, v2=True)
    if mode == "markdown":
        return _parse_markdown(text, v2=False)
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    return text, []


def _cant_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def _sorted(entities: list[Entity]) -> list[Entity]:
    return sorted((e for e in entities if e["length"] > 0), key=lambda e: (e["offset"], -e["length"]))


# ---- HTML ----------------------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}  # fmt: skip


class _HtmlParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._text: list[str] = []
        self._pos = 0  # UTF-16 offset into the plain text
        self._open: list[tuple[str, int, Entity]] = []
        self._entities: list[Entity] = []
        self._source = ""

    def run(self, source: str) -> tuple[str, list[Entity]]:
        self._source = source
        self.feed(source)
        self.close()
        if self._open:
            raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{self._open[-1][0]}"')
        return "".join(self._text), _sorted(self._entities)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        attributes = dict(attrs)
        if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        entity: Entity = {"type": kind}
        if tag == "a":
            entity["url"] = attributes.get("href") or ""
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif tag == "code" and self._open and self._open[-1][0] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self._open[-1][2]["language"] = language
            entity["type"] = ""
        self._open.append((tag, self._pos, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            expected = self._open[-1][0] if self._open else None
            detail = f'expected "</{expected}>", found "</{tag}>"' if expected else f'found "</{tag}>"'
            raise _cant_parse(f"Unmatched end tag at byte offset {self._byte_offset()}, {detail}")
        _, start, entity = self._open.pop()
        if entity["type"]:
            self._entities.append({**entity, "offset": start, "length": self._pos - start})

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        self._pos += utf16_len(data)

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        lines = self._source.split("\n")
        return len("\n".join([*lines[: line - 1], lines[line - 1][:column]]).encode())


# ---- Markdown / MarkdownV2 -----------------------------------------------------------------------

_MD_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD_NAMES = {"bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
             "spoiler": "Spoiler", "code": "Code", "pre": "Pre", "text_link": "TextUrl"}  # fmt: skip
_MD_V2_MARKERS = (("```", "pre"), ("||", "spoiler"), ("__", "underline"), ("`", "code"),
                  ("*", "bold"), ("_", "italic"), ("~", "strikethrough"), ("[", "text_link"))  # fmt: skip
_MD_V1_MARKERS = (("```", "pre"), ("`", "code"), ("*", "bold"), ("_", "italic"), ("[", "text_link"))


def _parse_markdown(source: str, *, v2: bool) -> tuple[str, list[Entity]]:
    text: list[str] = []
    pos = 0
    entities: list[Entity] = []
    open_: list[tuple[str, str, int, int]] = []  # marker, type, utf16 start, byte offset in source
    markers = _MD_V2_MARKERS if v2 else _MD_V1_MARKERS
    i = 0
    while i < len(source):
        char = source[i]
        in_code = bool(open_) and open_[-1][1] in ("code", "pre")
        if char == "\\" and i + 1 < len(source) and (v2 or source[i + 1] in "_*`["):
            text.append(source[i + 1])
            pos += utf16_len(source[i + 1])
            i += 2
            continue
        if in_code and not source.startswith(open_[-1][0], i):
            text.append(char)
            pos += utf16_len(char)
            i += 1
            continue
        if char == "]" and open_ and open_[-1][1] == "text_link":
            match = re.match(r"\(((?:\\.|[^)\\])*)\)", source[i + 1 :])
            if match is None:
                raise _cant_parse(f"Can't find end of a url at byte offset {len(source[:i].encode())}")
            _, _, start, _ = open_.pop()
            url = re.sub(r"\\(.)", r"\1", match.group(1))
            entities.append({"type": "text_link", "offset": start, "length": pos - start, "url": url})
            i += 1 + match.end()
            continue
        marker = next(((m, kind) for m, kind in markers if source.startswith(m, i)), None)
        if marker is not None and not (not v2 and open_ and open_[-1][0] != marker[0]):
            m, kind = marker
            if open_ and open_[-1][0] == m and kind != "text_link":
                _, _, start, _ = open_.pop()
                entity: Entity = {"type": kind, "offset": start, "length": pos - start}
                entities.append(entity)
                i += len(m)
                continue
            open_.append((m, kind, pos, len(source[:i].encode())))
            i += len(m)
            if kind == "pre":  # ```language\n
                match = re.match(r"([\w+#-]*)\n", source[i:])
                if match and match.group(1):
                    i += match.end()
            continue
        if v2 and char in _MD_RESERVED:
            raise _cant_parse(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        text.append(char)
        pos += utf16_len(char)
        i += 1
    if open_:
        _, kind, _, offset = open_[-1]
        if v2:
            raise _cant_parse(f"Can't find end of {_MD_NAMES[kind]} entity at byte offset {offset}")
        raise _cant_parse(f"Can't find end of the entity starting at byte offset {offset}")
    return "".join(text), _sorted(entities)


# ---- entities Telegram detects in what users type ------------------------------------------------

_AUTO = re.compile(
    r"(?P<bot_command>(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@\w+)?)"
    r"|(?P<url>\bhttps?://[^\s]+)"
    r"|(?P<mention>(?<!\w)@[A-Za-z]\w{4,31})"
)


def detect_entities(text: str) -> list[Entity]:
    entities = []
    for match in _AUTO.finditer(text):
        kind = match.lastgroup or "url"
        offset = utf16_len(text[: match.start()])
        entities.append({"offset": offset, "length": utf16_len(match.group()), "type": kind})
    return entities
