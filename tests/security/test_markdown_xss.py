"""Markdown from the bank never yields executable HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from webapp.core.markup import render_markdown, render_markdown_inline

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<object data=x></object><embed src=x>",
    "<form action=//evil.example><button>go</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "```html\n<script>alert(1)</script>\n```",
    "<details open ontoggle=alert(1)>",
    "[x](vbscript:msgbox(1))",
    "<base href=//evil.example>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<<script>script>alert(1)<</script>/script>",
    "`<script>`",
    "<a href='https://ok.example' onclick='alert(1)'>ok</a>",
]
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "form", "style", "svg", "math", "base", "meta", "img",
                  "details"}


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag}[{name}]")
            safe = ("https://", "http://", "mailto:", "#", "/")
            if name in ("href", "src", "action") and value and not value.startswith(safe):
                self.problems.append(f"{tag}[{name}={value}]")


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("render", [render_markdown, render_markdown_inline])
def test_payload_is_inert(payload: str, render) -> None:
    inspector = _Inspector()
    inspector.feed(str(render(payload)))
    assert inspector.problems == []


def test_safe_links_keep_working_with_rel() -> None:
    html = str(render_markdown("[docs](https://fastapi.tiangolo.com/)"))
    assert 'href="https://fastapi.tiangolo.com/"' in html and "noopener" in html


def test_code_is_highlighted_and_escaped() -> None:
    html = str(render_markdown("```python\nprint('<b>')\n```"))
    assert 'class="highlight"' in html and "&lt;b&gt;" in html


def test_question_page_with_hostile_prompt(admin_client, app) -> None:
    import yaml

    from webapp.core.db import session_scope
    from webapp.questions.bank import parse_document
    from webapp.questions.importer import apply_import

    hostile = "\n\n".join(PAYLOADS)
    doc = {"topics": [{"slug": "cors", "name": "CORS"}], "questions": [{
        "slug": "hostile", "topic": "cors", "difficulty": "easy", "kind": "choice",
        "title": "<script>alert(1)</script>", "prompt": hostile,
        "choices": [{"id": "a", "text": "<img src=x onerror=alert(1)>", "correct": True},
                    {"id": "b", "text": "[x](javascript:alert(1))"}]}]}
    with session_scope(app.state.db.write_session) as db:
        assert apply_import(db, bank=parse_document(yaml.safe_dump(doc), filename="h.yaml"), actor=None, source="t").ok
    html = admin_client.get("/questions/hostile").text
    inspector = _Inspector()
    inspector.feed(html.split('<main id="main"')[1])
    assert inspector.problems == ["<form>"]  # only the page's own answer form (action checked as local)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
