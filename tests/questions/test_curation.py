"""Admins write, revise, publish and archive questions; every change is audited."""

from __future__ import annotations

from functools import partial
from html.parser import HTMLParser

from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from webapp.audit.models import AuditEvent
from webapp.core.db import session_scope
from webapp.identity.models import Role
from webapp.questions.curation import get_question

TEXT_QUESTION = {
    "slug": "depends-basics", "kind": "text", "title": "What does Depends do?", "topic": "type-hints",
    "difficulty": "easy", "tags": "dependencies, di", "prompt": "Explain **Depends**.\n\n```python\nDepends(x)\n```",
    "reference_answer": "It declares a dependency.",
    "rubric-0-point": "Dependencies are declared with Depends", "rubric-0-weight": "2",
    "rubric-0-claims": "dependency ; declare|depends\ndependency injection ; function|parameter",
    "rubric-0-misconceptions": "depends ; global|once at startup => A dependency runs for each request.",
    "rubric-0-need": "2", "rubric-0-hint": "How are they declared?",
    "rubric-1-point": "FastAPI resolves and caches them per request", "rubric-1-weight": "1",
    "rubric-1-claims": "fastapi ; cache|reuse ; per request|same request", "rubric-1-patterns": r"\bonce per request\b",
}


_post = partial(post_form, token_page="/admin")  # every form here takes its token from /admin


def _events(app, action):
    with session_scope(app.state.db.read_session) as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_create_text_question_with_two_rubric_points(admin_client, bank, app):
    response = _post(admin_client, "/admin/questions/new", {**TEXT_QUESTION, "action": "save"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/questions/depends-basics/edit"
    with session_scope(app.state.db.read_session) as db:
        question = get_question(db, slug="depends-basics")
        assert question.status.value == "draft"
        assert [p.weight for p in question.current_revision.rubric] == [2, 1]
        assert question.current_revision.rubric[1].patterns == [r"\bonce per request\b"]
        first = question.current_revision.rubric[0]
        assert first.claims == ["dependency ; declare|depends", "dependency injection ; function|parameter"]
        assert first.need == 2 and first.misconceptions[0].endswith("runs for each request.")
        assert question.tag_names == ["dependencies", "di"]
    assert _events(app, "question.created")


def test_field_errors_rerender_the_editor_with_422(admin_client, bank):
    data = {**TEXT_QUESTION, "slug": "Bad Slug!", "title": "", "rubric-0-weight": "9", "rubric-1-patterns": "([",
            "rubric-0-claims": "dependency ; declare\nfilters", "rubric-1-misconceptions": "a ; b", "action": "save"}
    response = _post(admin_client, "/admin/questions/new", data)
    assert response.status_code == 422
    html = response.text
    for field in ("slug", "title", "rubric-0-weight", "rubric-0-claims", "rubric-1-misconceptions"):
        assert f'id="{field}-error" class="field-error" aria-live="polite">' in html
        assert html.split(f'id="{field}-error" class="field-error" aria-live="polite">')[1][:1] != "<", field
    assert "claim 2 (&#39;filters&#39;)" in html and "one word proves nothing" in html  # names the line
    assert "say why it is wrong" in html
    assert 'value="Bad Slug!"' in html  # nothing typed is lost
    # In the editor's words, not pydantic's: no regular expressions, no "Input should be".
    assert "Use lowercase letters, digits and single hyphens" in html and "Give at most 5." in html
    assert "should match pattern" not in html and "Input should" not in html


def test_duplicate_slug_is_refused(admin_client, bank):
    data = {**TEXT_QUESTION, "slug": bank.questions[0].slug, "action": "save"}
    response = _post(admin_client, "/admin/questions/new", data)
    assert response.status_code == 422 and "already exists" in response.text


def test_rubric_rows_are_added_removed_and_reordered(admin_client, bank):
    added = _post(admin_client, "/admin/questions/new", {**TEXT_QUESTION, "action": "add-rubric"})
    assert added.status_code == 200 and 'name="rubric-2-point"' in added.text
    moved = _post(admin_client, "/admin/questions/new", {**TEXT_QUESTION, "action": "down-rubric-0"})
    assert moved.text.index("FastAPI resolves and caches") < moved.text.index("Dependencies are declared with")
    removed = _post(admin_client, "/admin/questions/new", {**TEXT_QUESTION, "action": "remove-rubric-0"})
    assert "Dependencies are declared with" not in removed.text and 'name="rubric-1-point"' not in removed.text
    htmx = _post(admin_client, "/admin/questions/new", {**TEXT_QUESTION, "action": "add-rubric"},
                 headers={"HX-Request": "true"})
    assert htmx.text.lstrip().startswith('<form id="question-editor"')


def test_choice_question_editor(admin_client, bank, app):
    data = {"slug": "pick-one", "kind": "choice", "title": "Pick one", "topic": "cors", "difficulty": "easy",
            "prompt": "Which?", "choice-0-id": "a", "choice-0-text": "Right", "choice-0-correct": "on",
            "choice-1-id": "b", "choice-1-text": "Wrong", "action": "add-choice"}
    added = _post(admin_client, "/admin/questions/new", data)
    assert 'name="choice-2-text"' in added.text and 'name="choice-2-id" value="c"' in added.text
    saved = _post(admin_client, "/admin/questions/new", {**data, "action": "save"})
    assert saved.status_code == 303
    none_correct = {**data, "slug": "pick-two", "choice-0-correct": "", "action": "save"}
    del none_correct["choice-0-correct"]
    refused = _post(admin_client, "/admin/questions/new", none_correct)
    assert refused.status_code == 422 and "at least one correct choice" in refused.text


def test_editing_creates_a_revision_and_history_shows_a_diff(admin_client, bank, app):
    _post(admin_client, "/admin/questions/new", {**TEXT_QUESTION, "action": "save"})
    edited = {**TEXT_QUESTION, "prompt": "Explain **Depends** and sub-dependencies.", "action": "save"}
    assert _post(admin_client, "/admin/questions/depends-basics/edit", edited).status_code == 303
    unchanged = _post(admin_client, "/admin/questions/depends-basics/edit", edited)
    assert unchanged.status_code == 303
    with session_scope(app.state.db.read_session) as db:
        question = get_question(db, slug="depends-basics")
        assert [r.number for r in question.revisions] == [1, 2]  # saving unchanged content adds nothing
        assert question.revisions[0].prompt.startswith("Explain **Depends**.")  # old revision untouched
    history = admin_client.get("/admin/questions/depends-basics/revisions").text
    assert "/admin/questions/depends-basics/revisions/1" in history
    diff = admin_client.get("/admin/questions/depends-basics/revisions/2").text
    # Unified, with the changed words marked inside the changed line.
    assert ("<ins><span class=\"visually-hidden\">added: </span>Explain **Depends**<strong> and sub-dependencies"
            "</strong>.</ins>") in diff
    assert "<del><span class=\"visually-hidden\">removed: </span>Explain **Depends**.</del>" in diff
    assert "Model answer <small>" not in diff  # only the fields that changed get a diff
    assert admin_client.get("/admin/questions/depends-basics/revisions/9").status_code == 404
    assert _events(app, "question.revised")


def test_publish_unpublish_archive(admin_client, bank, app, make_client, make_user):
    _post(admin_client, "/admin/questions/new", {**TEXT_QUESTION, "action": "save"})
    candidate = make_client()
    user = make_user()
    login(candidate, user.email, PASSWORD)
    assert candidate.get("/questions/depends-basics").status_code == 404
    assert _post(admin_client, "/admin/questions/depends-basics/status", {"status": "published"}).status_code == 303
    assert candidate.get("/questions/depends-basics").status_code == 200
    _post(admin_client, "/admin/questions/depends-basics/status", {"status": "archived"})
    assert candidate.get("/questions/depends-basics").status_code == 404
    assert _post(admin_client, "/admin/questions/depends-basics/status", {"status": "bogus"}).status_code == 422
    assert [e.summary for e in _events(app, "question.published")]
    assert _events(app, "question.archived")


def test_live_preview_is_sanitised(admin_client, bank):
    response = _post(admin_client, "/admin/questions/preview",
                     {"prompt": "**bold** <script>alert(1)</script> [x](javascript:alert(1))"})
    assert "<strong>bold</strong>" in response.text
    assert "<script" not in response.text and 'href="javascript' not in response.text


def test_admin_question_pages_need_the_admin_role(client, make_user, bank):
    user = make_user(Role.interviewer)
    login(client, user.email, PASSWORD)
    slug = bank.questions[0].slug
    for path in ["/admin/questions", "/admin/questions/new", f"/admin/questions/{slug}/edit",
                 f"/admin/questions/{slug}/revisions", "/admin/questions/import", "/admin/questions/export"]:
        assert client.get(path).status_code == 403, path
    assert _post(client, f"/admin/questions/{slug}/status", {"status": "archived"}).status_code == 403


def test_admin_list_filters_by_status(admin_client, bank, app):
    _post(admin_client, "/admin/questions/new", {**TEXT_QUESTION, "action": "save"})
    drafts = admin_client.get("/admin/questions", params={"status": "draft"}).text
    assert "depends-basics" in drafts and "1 question" in drafts


def test_editing_a_shipped_question_keeps_its_claims_and_misconceptions(admin_client, bank, app):
    spec = next(q for q in bank.questions if q.kind == "text")
    page = admin_client.get(f"/admin/questions/{spec.slug}/edit").text
    fields = _EditorFields()
    fields.feed(page)
    assert fields.values["rubric-0-claims"].splitlines() == spec.rubric[0].claims
    response = _post(admin_client, f"/admin/questions/{spec.slug}/edit", {**fields.values, "action": "save"})
    assert response.status_code == 303, response.text
    with session_scope(app.state.db.read_session) as db:
        saved = get_question(db, slug=spec.slug).current_revision.rubric
    for stored, shipped in zip(saved, spec.rubric, strict=False):
        assert stored.claims == shipped.claims and stored.misconceptions == shipped.misconceptions
        assert stored.need == shipped.need and stored.patterns == shipped.patterns
        assert stored.hint == shipped.hint


class _EditorFields(HTMLParser):
    """The values a browser would send from the editor form (inputs, textareas, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") not in ("checkbox", "radio", "submit"):
            self.values[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a and a.get("name"):
            self.values[a["name"]] = a.get("value") or "on"
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.values[self._textarea] = ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            if self._textarea and self.values[self._textarea].startswith("\n"):
                self.values[self._textarea] = self.values[self._textarea][1:]  # HTML drops a leading newline
            self._textarea = None
        elif tag == "select":
            self._select = None
