"""The web chat's rendering of Telegram entities, a pure function: escaped text, Telegram's tags properly
nested, safe links only, UTF-16 offsets."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from simulators.telegram.webchat import render_html, safe_url


class _Balance(HTMLParser):
    """Collects tags and checks they nest properly."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


def _parse(markup: str) -> _Balance:
    parser = _Balance()
    parser.feed(markup)
    parser.close()
    assert not parser.problems and not parser.stack, (markup, parser.problems, parser.stack)
    return parser


def test_plain_text_is_escaped() -> None:
    out = render_html('<script>alert("x")</script> & <img src=x onerror=alert(1)>', [])
    assert out == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;"
    )
    assert _parse(out).tags == []


def test_formatting_entities_become_telegram_tags() -> None:
    text = "bold italic code link"
    entities = [
        {"type": "bold", "offset": 0, "length": 11},
        {"type": "italic", "offset": 5, "length": 6},
        {"type": "code", "offset": 12, "length": 4},
        {"type": "text_link", "offset": 17, "length": 4, "url": "https://example.com/?a=1&b=<2>"},
    ]
    out = render_html(text, entities)
    assert out == (
        "<b>bold <i>italic</i></b> <code>code</code> "
        '<a href="https://example.com/?a=1&amp;b=&lt;2&gt;" target="_blank" '
        'rel="noopener noreferrer">link</a>'
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", " java\tscript:x"]
)
def test_dangerous_links_lose_their_href(url: str) -> None:
    out = render_html("click", [{"type": "text_link", "offset": 0, "length": 5, "url": url}])
    assert "href" not in out and out == '<span class="unsafe-link">click</span>'
    assert safe_url(url) is None


def test_safe_url_keeps_web_and_telegram_links() -> None:
    assert safe_url("https://t.me/x") == "https://t.me/x"
    assert safe_url("tg://resolve?domain=x") == "tg://resolve?domain=x"
    assert safe_url("example.com/path") == "http://example.com/path"
    assert safe_url("") is None


def test_offsets_are_utf16_code_units() -> None:
    # 🎨 is two UTF-16 units: "bold" starts at offset 3, not 2.
    out = render_html("🎨 bold!", [{"type": "bold", "offset": 3, "length": 4}])
    assert out == "🎨 <b>bold</b>!"


def test_overlapping_entities_still_nest() -> None:
    out = render_html(
        "abcdef", [{"type": "bold", "offset": 0, "length": 4}, {"type": "italic", "offset": 2, "length": 4}]
    )
    assert out == "<b>ab<i>cd</i></b><i>ef</i>"
    _parse(out)


def test_pre_language_and_attributes_are_sanitised() -> None:
    good = render_html("x = 1", [{"type": "pre", "offset": 0, "length": 5, "language": "python"}])
    assert good == '<pre><code class="language-python">x = 1</code></pre>'
    bad = render_html("x", [{"type": "pre", "offset": 0, "length": 1, "language": '"><script>'}])
    assert bad == "<pre>x</pre>"


def test_commands_mentions_and_bad_entities() -> None:
    out = render_html(
        "/help@genflow_bot @someone",
        [
            {"type": "bot_command", "offset": 0, "length": 17},
            {"type": "mention", "offset": 18, "length": 8},
            {"type": "bold", "offset": 50, "length": 3},  # past the end: ignored
            {"type": "italic"},  # malformed: ignored
        ],
    )
    assert out == (
        '<a href="#" class="command" data-command="/help">/help@genflow_bot</a> '
        '<span class="mention">@someone</span>'
    )


def test_spoiler_blockquote_and_unknown_kinds() -> None:
    out = render_html(
        "secret quote 😀",
        [
            {"type": "spoiler", "offset": 0, "length": 6},
            {"type": "expandable_blockquote", "offset": 7, "length": 5},
            {"type": "custom_emoji", "offset": 13, "length": 2, "custom_emoji_id": "1"},
        ],
    )
    tags = [tag for tag, _ in _parse(out).tags]
    assert tags == ["span", "blockquote"] and out.endswith(" 😀")
