"""Markdown to safe HTML: markdown-it-py renders, Pygments highlights, nh3 sanitises."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_SPANS_ONLY = HtmlFormatter(nowrap=True)
# Line anchors "src-N": the review page's own code table owns "L-N" (an id must be unique).
_NUMBERED = HtmlFormatter(cssclass="highlight", wrapcode=True, linenos="inline", lineanchors="src")

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
    "div", "span", "del", "s", "sup", "sub", "kbd",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "div": {"class"}, "span": {"class", "id"}, "code": {"class"}, "pre": {"class"},
    "th": {"align"}, "td": {"align"}, "ol": {"start"},
}


def _highlight(code: str, language: str, _attrs: object) -> str:
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    # Output starting with <pre is used by markdown-it as it is (no second wrapper).
    return f'<pre class="highlight"><code>{highlight(code, lexer, _SPANS_ONLY)}</code></pre>'


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _highlight}).enable("table").enable(
    "strikethrough"
)


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> Markup:
    """Safe HTML for untrusted markdown (raw HTML in the source is escaped, then everything is sanitised)."""
    return Markup(sanitize_html(_MARKDOWN.render(text or "")))


@lru_cache(maxsize=4096)
def render_markdown_inline(text: str) -> Markup:
    """One line of markdown (a choice's text) without a wrapping paragraph."""
    return Markup(sanitize_html(_MARKDOWN.renderInline(text or "")))


@lru_cache(maxsize=1024)
def highlight_code(code: str, language: str = "python") -> Markup:
    """Highlighted code with line numbers (anchors L-1, L-2, ...), already escaped by Pygments."""
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    return Markup(highlight(code, lexer, _NUMBERED))


def code_block(code: str, *, label: str, language: str = "python") -> Markup:
    """Highlighted code to read, without line numbers: a labelled region that the keyboard can
    focus and scroll (a long line scrolls inside it, not the page)."""
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    block = Markup('<pre class="highlight code-block" tabindex="0" role="region" aria-label="{}"><code>{}</code></pre>')
    return block.format(label, Markup(highlight(code, lexer, _SPANS_ONLY)))


def _style_css(style: str) -> str:
    css: str = HtmlFormatter(style=style).get_style_defs(".highlight")  # type: ignore[no-untyped-call]  # untyped in stubs
    return css


def pygments_css() -> str:
    light, dark = (_style_css(style) for style in ("default", "monokai"))
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
