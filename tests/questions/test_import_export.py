"""Importing and exporting the bank: idempotent, all-or-nothing, round-tripping."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from sqlalchemy import func, select

from tests.helpers import post_form
from webapp.core.db import session_scope
from webapp.questions.bank import MAX_FILE_BYTES, dump_yaml, parse_document, read_path
from webapp.questions.importer import apply_import, export_bank, export_to_directory, plan_import
from webapp.questions.models import Question, QuestionRevision

GOOD = {
    "slug": "imported-one", "topic": "cors", "difficulty": "easy", "kind": "text", "title": "Imported",
    "prompt": "Explain CORS.", "reference_answer": "Because browsers.",
    "rubric": [{"point": "Same-origin policy", "weight": 2, "phrases": ["same origin"]}],
}


def _counts(app):
    with session_scope(app.state.db.read_session) as db:
        return db.scalar(select(func.count()).select_from(Question)), db.scalar(
            select(func.count()).select_from(QuestionRevision))


def _import(app, text, **kwargs):
    with session_scope(app.state.db.write_session) as db:
        return apply_import(db, bank=parse_document(text, filename="upload.yaml"), actor=None, source="t", **kwargs)


def test_import_is_idempotent_and_changes_make_revisions(app, bank):
    before = _counts(app)
    assert _import(app, yaml.safe_dump({"questions": [GOOD]})).new == ["imported-one"]
    again = _import(app, yaml.safe_dump({"questions": [GOOD]}))
    assert again.new == [] and again.unchanged == ["imported-one"]
    assert _counts(app) == (before[0] + 1, before[1] + 1)
    changed = _import(app, yaml.safe_dump({"questions": [{**GOOD, "prompt": "Explain CORS properly."}]}))
    assert changed.changed == ["imported-one"]
    assert _counts(app) == (before[0] + 1, before[1] + 2)


def test_export_then_import_round_trips(app, bank, tmp_path):
    with session_scope(app.state.db.read_session) as db:
        exported = export_bank(db)
        export_to_directory(db, directory=tmp_path)
    reread = read_path(tmp_path)
    assert reread.errors == []
    with session_scope(app.state.db.read_session) as db:
        plan = plan_import(db, bank=reread)
        assert plan.ok and plan.new == [] and plan.changed == []
        assert len(plan.unchanged) == len(bank.questions)
        single = plan_import(db, bank=parse_document(dump_yaml(exported), filename="x.yaml"))
        assert len(single.unchanged) == len(bank.questions)
    by_slug = {q.slug: q for q in reread.questions}
    assert all(by_slug[q.slug] == q for q in bank.questions)


def test_bad_files_import_nothing(app, bank):
    before = _counts(app)
    cases = {
        "malformed YAML": "questions: [\n  - slug: x\n    title: 'unclosed",
        "unknown field": yaml.safe_dump({"questions": [{**GOOD, "colour": "blue"}]}),
        "missing rubric": yaml.safe_dump({"questions": [{k: v for k, v in GOOD.items() if k != "rubric"}]}),
        "duplicate slugs": yaml.safe_dump({"questions": [GOOD, {**GOOD, "title": "Twin"}]}),
        "unknown topic": yaml.safe_dump({"questions": [{**GOOD, "topic": "astrology"}]}),
        "not a mapping": "- just\n- a list\n",
        "one bad among good": yaml.safe_dump({"questions": [{**GOOD, "slug": "fine-one"}, {**GOOD, "slug": "Not OK"}]}),
    }
    for label, text in cases.items():
        plan = _import(app, text)
        assert not plan.ok, label
        assert plan.errors and all(str(e) for e in plan.errors), label
    assert _counts(app) == before


def test_error_messages_name_file_question_and_field(app, bank):
    rubric = [{"point": "x", "weight": 7, "phrases": ["y"]}]
    plan = _import(app, yaml.safe_dump({"questions": [{**GOOD, "rubric": rubric}]}))
    error = plan.errors[0]
    assert (error.file, error.question, error.field) == ("upload.yaml", "imported-one", "rubric[0].weight")


def test_only_new_leaves_edited_questions_alone(app, bank):
    _import(app, yaml.safe_dump({"questions": [{**GOOD, "prompt": "Edited by an admin."}]}))
    plan = _import(app, yaml.safe_dump({"questions": [GOOD]}), only_new=True)
    assert plan.new == [] and plan.changed == []
    with session_scope(app.state.db.read_session) as db:
        question = db.scalar(select(Question).where(Question.slug == "imported-one"))
        assert question.search_text == "Edited by an admin."


def _upload(client, content: bytes, name: str = "bank.yaml"):
    return post_form(client, "/admin/questions/import", token_page="/admin",
                     files={"file": (name, content, "application/yaml")})


def test_web_import_shows_a_dry_run_then_applies(admin_client, bank, app):
    before = _counts(app)
    response = _upload(admin_client, yaml.safe_dump({"questions": [GOOD]}).encode())
    assert response.status_code == 200
    assert "Ready to import" in response.text and _counts(app) == before
    apply_path = response.text.split('action="/admin/questions/import/')[1].split('"')[0]
    applied = post_form(admin_client, f"/admin/questions/import/{apply_path}", token_page="/admin")
    assert applied.status_code == 303
    assert _counts(app)[0] == before[0] + 1
    twice = post_form(admin_client, f"/admin/questions/import/{apply_path}", token_page="/admin")
    assert twice.status_code == 404


def test_web_import_reports_errors_and_refuses_bad_files(admin_client, bank):
    invalid = _upload(admin_client, yaml.safe_dump({"questions": [{**GOOD, "weight": 1}]}).encode())
    assert invalid.status_code == 422 and "cannot be imported" in invalid.text and "weight" in invalid.text
    assert "/apply" not in invalid.text
    too_big = _upload(admin_client, b"#" * (MAX_FILE_BYTES + 10))
    assert too_big.status_code == 413 and "larger than" in too_big.text
    binary = _upload(admin_client, b"questions: \xff\xfe")
    assert binary.status_code == 400 and "not UTF-8" in binary.text


def test_web_export_downloads_yaml(admin_client, bank):
    response = admin_client.get("/admin/questions/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = yaml.safe_load(response.text)
    assert len(data["questions"]) == len(bank.questions) and len(data["topics"]) == len(bank.topics)


@pytest.mark.processes
def test_cli_import_dry_run_and_export(tmp_path):
    env = {**os.environ, "REHEARSE_DATA_DIR": str(tmp_path / "data")}
    env.pop("REHEARSE_DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "webapp.cli", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    assert run("migrate").returncode == 0
    bank_file = tmp_path / "bank.yaml"
    bank_file.write_text(yaml.safe_dump({"topics": [{"slug": "cors", "name": "CORS"}], "questions": [GOOD]}))
    dry = run("questions", "import", str(bank_file), "--dry-run")
    assert dry.returncode == 0 and "1 new" in dry.stdout
    real = run("questions", "import", str(bank_file))
    assert real.returncode == 0 and "imported: 1 new" in real.stdout
    assert "0 new, 0 changed, 1 unchanged" in run("questions", "import", str(bank_file)).stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("questions: [{slug: x}]")
    failed = run("questions", "import", str(bad))
    assert failed.returncode != 0 and "nothing was imported" in failed.stderr
    assert run("questions", "export", str(tmp_path / "out")).returncode == 0
    assert (tmp_path / "out" / "topics.yaml").exists()


NEW_STYLE = {
    "slug": "ping-code", "topic": "cors", "difficulty": "easy", "kind": "code", "title": "Ping",
    "prompt": "GET /ping.", "reference_solution": "from fastapi import FastAPI\napp = FastAPI()\n",
    "hidden_tests": "def test_ping(client):\n    assert client.get('/ping').status_code == 200\n",
}


def test_setup_brings_unedited_old_format_code_challenges_up_to_date(app, bank, make_user):
    """What `rehearse setup` does on upgrade: a shipped code question whose hidden tests imported
    `solution` (which can no longer be graded) is replaced, unless a person revised it."""
    from sqlalchemy import update

    from webapp.identity.models import Role

    admin = make_user(Role.admin)
    both = [NEW_STYLE, {**NEW_STYLE, "slug": "ping-code-edited"}]
    assert _import(app, yaml.safe_dump({"questions": both})).new == ["ping-code", "ping-code-edited"]
    old_format = "from solution import app\n\ndef test_ping():\n    assert app\n"
    with session_scope(app.state.db.write_session) as db:  # as an older version of Rehearse left them
        db.execute(update(QuestionRevision).where(QuestionRevision.title == "Ping")
                   .values(hidden_tests=old_format, content_hash="0" * 64))
        edited = db.scalar(select(Question).where(Question.slug == "ping-code-edited"))
        edited.current_revision.created_by_id = admin.id
    plan = _import(app, yaml.safe_dump({"questions": both}), only_new=True)
    assert plan.refreshed == ["ping-code"] and plan.changed == ["ping-code"]
    with session_scope(app.state.db.read_session) as db:
        current = {q.slug: q.current_revision.hidden_tests for q in db.scalars(select(Question)
                   .where(Question.slug.in_(["ping-code", "ping-code-edited"])))}
    assert current == {"ping-code": NEW_STYLE["hidden_tests"], "ping-code-edited": old_format}


def test_setup_brings_unedited_phrase_rubrics_up_to_date(app, bank, make_user):
    """On upgrade, shipped text questions still graded by phrases get the claims rubric, unless a
    person revised them."""
    from sqlalchemy import update

    from webapp.identity.models import Role

    admin = make_user(Role.admin)
    claims = {"point": "Same-origin policy", "weight": 2, "claims": ["browser ; same origin|other origin"]}
    both = [{**GOOD, "rubric": [claims]}, {**GOOD, "slug": "cors-edited", "rubric": [claims]}]
    assert len(_import(app, yaml.safe_dump({"questions": both})).new) == 2
    phrases = [{"point": "Same-origin policy", "weight": 2, "phrases": ["same origin"], "patterns": [],
                "claims": [], "misconceptions": [], "need": 1, "hint": "", "docs": None}]
    with session_scope(app.state.db.write_session) as db:  # as an older version of Rehearse left them
        db.execute(update(QuestionRevision).where(QuestionRevision.prompt == GOOD["prompt"])
                   .values(rubric=phrases, content_hash="0" * 64))
        edited = db.scalar(select(Question).where(Question.slug == "cors-edited"))
        edited.current_revision.created_by_id = admin.id
    plan = _import(app, yaml.safe_dump({"questions": both}), only_new=True)
    assert plan.refreshed == [GOOD["slug"]]
    with session_scope(app.state.db.read_session) as db:
        rubrics = {q.slug: q.current_revision.rubric[0] for q in db.scalars(select(Question)
                   .where(Question.slug.in_([GOOD["slug"], "cors-edited"])))}
    assert rubrics[GOOD["slug"]].claims == claims["claims"] and rubrics["cors-edited"].phrases == ["same origin"]
