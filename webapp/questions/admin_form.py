"""The admin question editor's form: parsing flat form fields, structural edits, validation.

Repeated groups use indexed names (``rubric-0-point``, ``choice-1-text``, ``correct-0-code``,
``wrong-0-code``), so the same form works as a plain POST and as an htmx swap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pydantic import ValidationError

from webapp.core.inputs import whole_number
from webapp.questions.bank import LimitsSpec, QuestionSpec
from webapp.questions.rubric_spec import CalibrationSpec

_INDEXED = re.compile(r"^(rubric|choice|correct|wrong)-(\d{1,2})-(\w+)$")
MAX_ITEMS = 20


@dataclass
class RubricRow:
    point: str = ""
    weight: str = "1"
    claims: str = ""  # one claim per line
    misconceptions: str = ""  # one "claim => why" per line
    need: str = "1"
    phrases: str = ""  # the older format, kept while a point still has them
    patterns: str = ""
    hint: str = ""
    docs: str = ""


@dataclass
class ChoiceRow:
    id: str = ""
    text: str = ""
    correct: bool = False
    explanation: str = ""
    docs: str = ""


@dataclass
class SolutionRow:
    label: str = ""
    code: str = ""


@dataclass
class QuestionForm:
    slug: str = ""
    topic: str = ""
    difficulty: str = "medium"
    kind: str = "text"
    status: str = "draft"
    title: str = ""
    tags: str = ""
    prompt: str = ""
    reference_answer: str = ""
    multiple: bool = False
    starter_code: str = ""
    hidden_tests: str = ""
    example_tests: str = ""
    reference_solution: str = ""
    equivalent_mutants: str = ""  # one "m-xxxxxxxx: why" per line
    allowed_extensions: str = ""
    cpu_seconds: str = ""
    wall_seconds: str = ""
    memory_mb: str = ""
    docs: str = ""  # one link per line
    api: str = ""  # one reference per line
    rubric: list[RubricRow] = field(default_factory=list)
    choices: list[ChoiceRow] = field(default_factory=list)
    correct: list[SolutionRow] = field(default_factory=list)
    wrong: list[SolutionRow] = field(default_factory=list)
    calibration: list[CalibrationSpec] = field(default_factory=list)  # not edited here: kept as it was

    @classmethod
    def blank(cls) -> QuestionForm:
        return cls(rubric=[RubricRow()], choices=[ChoiceRow(id="a"), ChoiceRow(id="b")])


_GROUPS = ("rubric", "choices", "correct", "wrong", "calibration", "multiple")
_SCALARS = [name for name in QuestionForm.__dataclass_fields__ if name not in _GROUPS]
_ROWS = {"rubric": RubricRow, "choice": ChoiceRow, "correct": SolutionRow, "wrong": SolutionRow}


def parse_form(items: Sequence[tuple[str, object]]) -> QuestionForm:
    """Read the editor's fields, as (name, value) pairs in form order (unknown fields are ignored)."""
    data = dict(items)  # a repeated scalar field: the last value counts, as in Starlette's FormData
    form = QuestionForm()
    for name in _SCALARS:  # every scalar field of the editor is text
        setattr(form, name, str(data.get(name, "")))
    form.multiple = data.get("multiple") == "on"
    groups: dict[str, dict[int, dict[str, str]]] = {group: {} for group in _ROWS}
    for key, value in items:
        if (match := _INDEXED.match(key)) and isinstance(value, str):
            group, index, name = match.group(1), int(match.group(2)), match.group(3)
            groups[group].setdefault(index, {})[name] = value
    rows = {group: [_row(_ROWS[group], values[i]) for i in sorted(values)][:MAX_ITEMS]
            for group, values in groups.items()}
    form.rubric, form.choices, form.correct, form.wrong = rows["rubric"], rows["choice"], rows["correct"], rows["wrong"]
    return form


def _row(cls: type[RubricRow | ChoiceRow | SolutionRow], values: dict[str, str]) -> Any:
    names = {f.name for f in fields(cls)}
    known: dict[str, str | bool] = {k: v for k, v in values.items() if k in names}
    if cls is ChoiceRow:
        known["correct"] = known.get("correct") == "on"
    return cls(**known)  # type: ignore[arg-type]  # each value's type follows its field: text, or a checkbox


def form_from_spec(spec: QuestionSpec) -> QuestionForm:
    limits = spec.limits
    return QuestionForm(
        slug=spec.slug, topic=spec.topic, difficulty=spec.difficulty.value, kind=spec.kind.value,
        status=spec.status.value,
        title=spec.title, tags=", ".join(spec.tags), prompt=spec.prompt, reference_answer=spec.reference_answer,
        multiple=spec.multiple, starter_code=spec.starter_code, hidden_tests=spec.hidden_tests,
        example_tests=spec.example_tests,
        reference_solution=spec.reference_solution, allowed_extensions=", ".join(spec.allowed_extensions),
        equivalent_mutants="\n".join(f"{m.mutant}: {m.reason}" for m in spec.equivalent_mutants),
        cpu_seconds=str(limits.cpu_seconds) if limits else "", wall_seconds=str(limits.wall_seconds) if limits else "",
        memory_mb=str(limits.memory_mb) if limits else "", docs="\n".join(spec.docs), api="\n".join(spec.api),
        rubric=[RubricRow(point=p.point, weight=str(p.weight), claims="\n".join(p.claims),
                          misconceptions="\n".join(p.misconceptions), need=str(p.need), phrases="\n".join(p.phrases),
                          patterns="\n".join(p.patterns), hint=p.hint, docs=p.docs or "") for p in spec.rubric],
        choices=[ChoiceRow(id=c.id, text=c.text, correct=c.correct, explanation=c.explanation, docs=c.docs or "")
                 for c in spec.choices],
        correct=[SolutionRow(label=c.label, code=c.code) for c in spec.correct_solutions],
        wrong=[SolutionRow(label=w.label, code=w.code) for w in spec.wrong_solutions],
        calibration=list(spec.calibration),
    )


def apply_action(form: QuestionForm, action: str) -> QuestionForm:
    """Structural edits: add-rubric, remove-rubric-2, up-choice-1, down-wrong-0, ..."""
    verb, _, rest = action.partition("-")
    group, _, index_text = rest.partition("-")
    groups: dict[str, list[Any]] = {"rubric": form.rubric, "choice": form.choices, "correct": form.correct,
                                    "wrong": form.wrong}
    rows = groups.get(group)
    if rows is None:
        return form
    if verb == "add" and len(rows) < MAX_ITEMS:
        rows.append(_ROWS[group]())
        if group == "choice":
            rows[-1].id = _next_choice_id(form.choices)
        return form
    index = whole_number(index_text, low=0, high=len(rows) - 1)
    if index is None:
        return form
    if verb == "remove":
        rows.pop(index)
    elif verb == "up" and index > 0:
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return form


def _next_choice_id(choices: list[ChoiceRow]) -> str:
    used = {c.id for c in choices}
    return next((letter for letter in "abcdefghijklmnopqrstuvwxyz" if letter not in used), "z")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _csv(text: str) -> list[str]:
    return [part.strip().lower() for part in text.split(",") if part.strip()]


def _equivalents(text: str) -> list[dict[str, str]]:
    pairs = [line.partition(":") for line in _lines(text)]
    return [{"mutant": mutant.strip(), "reason": reason.strip()} for mutant, _, reason in pairs]


def form_limits(form: QuestionForm) -> LimitsSpec | None:
    """The limits the form sets, each one only if it is valid (a preview run uses the defaults for the rest)."""
    valid: dict[str, str] = {}
    for name in ("cpu_seconds", "wall_seconds", "memory_mb"):
        value = getattr(form, name).strip()
        try:
            LimitsSpec.model_validate({name: value})
        except ValidationError:
            continue
        valid[name] = value
    return LimitsSpec.model_validate(valid) if valid else None


def form_to_spec(form: QuestionForm) -> tuple[QuestionSpec | None, dict[str, str]]:
    """Validate the form as a bank question; errors are keyed by form field name."""
    data: dict[str, Any] = {
        "slug": form.slug.strip(), "topic": form.topic, "difficulty": form.difficulty, "kind": form.kind,
        "status": form.status or "draft", "title": form.title.strip(), "tags": _csv(form.tags),
        "prompt": form.prompt, "reference_answer": form.reference_answer, "calibration": form.calibration,
        "docs": _lines(form.docs), "api": _lines(form.api),
    }
    if form.kind == "text" or (form.kind == "code" and any(r.point.strip() for r in form.rubric)):
        data["rubric"] = [
            {"point": r.point.strip(), "weight": r.weight, "claims": _lines(r.claims),
             "misconceptions": _lines(r.misconceptions), "need": r.need.strip() or "1", "phrases": _lines(r.phrases),
             "patterns": _lines(r.patterns), "hint": r.hint.strip(), "docs": r.docs.strip() or None}
            for r in form.rubric
        ]
    if form.kind == "choice":
        data["multiple"] = form.multiple
        data["choices"] = [asdict(c) | {"id": c.id.strip(), "docs": c.docs.strip() or None} for c in form.choices]
    if form.kind == "code":
        data.update(starter_code=form.starter_code, hidden_tests=form.hidden_tests, example_tests=form.example_tests,
                    reference_solution=form.reference_solution, allowed_extensions=_csv(form.allowed_extensions),
                    correct_solutions=[asdict(c) for c in form.correct if c.code.strip() or c.label.strip()],
                    wrong_solutions=[asdict(w) for w in form.wrong if w.code.strip() or w.label.strip()],
                    equivalent_mutants=_equivalents(form.equivalent_mutants))
        limits = {k: getattr(form, k) for k in ("cpu_seconds", "wall_seconds", "memory_mb") if getattr(form, k).strip()}
        data["limits"] = limits or None
    try:
        return QuestionSpec.model_validate(data), {}
    except ValidationError as exc:
        return None, _field_errors(exc)


def _field_errors(exc: ValidationError) -> dict[str, str]:
    names = {"rubric": "rubric", "choices": "choice", "correct_solutions": "correct", "wrong_solutions": "wrong",
             "limits": ""}
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        if loc and loc[0] in names and len(loc) >= 3:
            key = f"{names[loc[0]]}-{loc[1]}-{loc[2]}" if names[loc[0]] else loc[-1]
        elif loc and loc[0] in names and len(loc) == 2 and names[loc[0]]:
            field_name = "claims" if loc[0] == "rubric" else "text" if loc[0] == "choices" else "code"
            key = f"{names[loc[0]]}-{loc[1]}-{field_name}"
        elif loc and loc[0] == "limits" and len(loc) >= 2:
            key = loc[1]
        elif loc and loc[0] == "equivalent_mutants":
            key = "equivalent_mutants"
        else:
            key = loc[0] if loc else "form"
        in_list = len(loc) == 2 and loc[1].isdigit() and loc[0] in _PATTERN_HINTS  # a line of docs or api
        field_name = loc[0] if in_list else loc[-1] if loc else ""
        errors.setdefault(key, _plain_message(err, field=field_name))
    return errors


_PATTERN_HINTS = {
    "slug": "Use lowercase letters, digits and single hyphens, like cors-preflight.",
    "topic": "Choose one of the topics.",
    "id": "A choice id is 1 to 8 lowercase letters or digits, like a or b2.",
    "mutant": "A mutant id looks like m-0123abcd (as `rehearse questions mutants` prints it).",
    "docs": "Each line is one https:// link, with no spaces.",
    "api": "Each line names an API as a dotted path, like fastapi.Depends or fastapi.Depends(use_cache).",
}


def _plain_message(err: Any, *, field: str) -> str:
    """Pydantic's message in the editor's words (no regular expressions or type names)."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        if field.isdigit():  # an item of a list: tags or allowed extensions
            return "Tags are lowercase letters, digits and hyphens; extensions look like .py."
        return _PATTERN_HINTS.get(field, "This is not in the expected format.")
    plain = {
        "string_too_short": "This cannot be empty.",
        "string_too_long": f"At most {ctx.get('max_length')} characters.",
        "too_long": f"At most {ctx.get('max_length')} items.",
        "int_parsing": "Give a whole number.", "int_from_float": "Give a whole number.",
        "float_parsing": "Give a number.",
        "greater_than_equal": f"Give at least {ctx.get('ge')}.", "less_than_equal": f"Give at most {ctx.get('le')}.",
        "greater_than": f"Give more than {ctx.get('gt')}.", "less_than": f"Give less than {ctx.get('lt')}.",
        "enum": "Choose one of the options.", "literal_error": "Choose one of the options.",
        "missing": "This is required.",
    }
    return plain.get(kind) or str(err["msg"]).removeprefix("Value error, ")
