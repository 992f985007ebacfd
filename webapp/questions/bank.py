"""The bank's YAML format: its schema, reading files, and writing them back.

A bank file holds ``topics:`` and/or ``questions:``; the shipped bank
(``webapp/question_bank``) has ``topics.yaml``, ``synonyms.yaml`` and one file per topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from webapp.core import safe_yaml
from webapp.questions.hidden_tests import HiddenTestsProblem, collect_tests
from webapp.questions.kinds import Difficulty, QuestionKind, QuestionStatus
from webapp.questions.rubric_spec import CalibrationSpec, RubricPointSpec
from webapp.questions.spec_types import ApiRef, DocsLink, NonEmpty, Slug, StrictModel, Tag

MAX_FILE_BYTES = 2 * 1024 * 1024


class TopicSpec(StrictModel):
    slug: Slug
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    description: str = ""


class ChoiceSpec(StrictModel):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,8}$")]
    text: NonEmpty
    correct: bool = False
    explanation: str = ""
    docs: DocsLink | None = None  # where the explanation comes from (shown with it)


class SolutionSpec(StrictModel):
    """A known solution of a code question: what it shows (its style, or what is wrong with it)."""

    label: NonEmpty
    code: NonEmpty


WrongSolutionSpec = SolutionSpec


class EquivalentMutantSpec(StrictModel):
    """A mutant of the reference solution that no test can kill, because it behaves the same."""

    mutant: Annotated[str, StringConstraints(pattern=r"^m-[0-9a-f]{8}$")]
    reason: NonEmpty


class LimitsSpec(StrictModel):
    cpu_seconds: float = Field(default=5, gt=0, le=60)
    wall_seconds: float = Field(default=10, gt=0, le=120)
    memory_mb: int = Field(default=512, ge=64, le=4096)
    processes: int = Field(default=64, ge=1, le=512)
    file_size_mb: int = Field(default=1, ge=1, le=64)


class QuestionSpec(StrictModel):
    slug: Slug
    topic: Slug
    difficulty: Difficulty
    tags: list[Tag] = Field(default_factory=list, max_length=8)
    kind: QuestionKind
    status: QuestionStatus = QuestionStatus.published
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    prompt: NonEmpty
    reference_answer: str = ""
    rubric: list[RubricPointSpec] = Field(default_factory=list)
    calibration: list[CalibrationSpec] = Field(default_factory=list)
    multiple: bool = False
    choices: list[ChoiceSpec] = Field(default_factory=list)
    starter_code: str = ""
    hidden_tests: str = ""
    example_tests: str = ""  # shown to candidates, who run them against their code (Run examples)
    reference_solution: str = ""
    correct_solutions: list[SolutionSpec] = Field(default_factory=list, max_length=10)
    wrong_solutions: list[SolutionSpec] = Field(default_factory=list, max_length=20)
    equivalent_mutants: list[EquivalentMutantSpec] = Field(default_factory=list)
    limits: LimitsSpec | None = None
    allowed_extensions: list[Annotated[str, StringConstraints(pattern=r"^\.[a-z0-9]{1,8}$")]] = Field(
        default_factory=list
    )
    docs: list[DocsLink] = Field(default_factory=list, max_length=6)  # "Read more", shown with the feedback
    api: list[ApiRef] = Field(default_factory=list, max_length=16)  # for the bank's own checks, never shown

    @field_validator("tags")
    @classmethod
    def _normalise_tags(cls, tags: list[str]) -> list[str]:
        return sorted(set(tags))

    @model_validator(mode="after")
    def _check_kind(self, info: ValidationInfo) -> QuestionSpec:
        if self.kind == "text" and not 1 <= len(self.rubric) <= 8:
            raise ValueError("a text question needs a rubric of 1 to 8 points")
        if self.kind == "choice":
            _check_choices(self)
        if self.kind == "code":
            for name in ("hidden_tests", "reference_solution"):
                if not getattr(self, name).strip():
                    raise ValueError(f"a code question needs {name}")
            _check_python(self)
            if not (info.context or {}).get("stored"):
                _check_tests(self)
        elif self.example_tests.strip():
            raise ValueError("only code questions have example tests")
        elif self.choices and self.kind != "choice":
            raise ValueError("only choice questions have choices")
        elif self.correct_solutions or self.wrong_solutions or self.equivalent_mutants:
            raise ValueError("only code questions have known solutions and mutants")
        return self


def _check_choices(spec: QuestionSpec) -> None:
    if not 2 <= len(spec.choices) <= 8:
        raise ValueError("a choice question needs 2 to 8 choices")
    ids = [c.id for c in spec.choices]
    if len(set(ids)) != len(ids):
        raise ValueError("choice ids must be unique")
    correct = sum(c.correct for c in spec.choices)
    if correct == 0:
        raise ValueError("a choice question needs at least one correct choice")
    if not spec.multiple and correct != 1:
        raise ValueError("a single-answer question needs exactly one correct choice (or set multiple: true)")


def _check_tests(spec: QuestionSpec) -> None:
    """Both suites follow the hidden tests' rules (the same runner runs them); examples are optional."""
    suites = {"hidden tests": spec.hidden_tests, "example tests": spec.example_tests}
    for label, source in suites.items():
        if label == "example tests" and not source.strip():
            continue
        try:
            collect_tests(source, label=label)
        except HiddenTestsProblem as exc:
            raise ValueError(str(exc)) from None


def _check_python(spec: QuestionSpec) -> None:
    sources = {"starter_code": spec.starter_code, "hidden_tests": spec.hidden_tests,
               "example_tests": spec.example_tests,
               "reference_solution": spec.reference_solution}
    sources.update({f"correct_solutions[{i}]": c.code for i, c in enumerate(spec.correct_solutions)})
    sources.update({f"wrong_solutions[{i}]": w.code for i, w in enumerate(spec.wrong_solutions)})
    for name, source in sources.items():
        if not source.strip():
            continue
        try:
            compile(source, name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise ValueError(f"{name} has a syntax error at line {exc.lineno}: {exc.msg}") from None


@dataclass(frozen=True)
class BankError:
    file: str
    question: str  # slug, or "" when the problem is the file itself
    field: str
    message: str

    def __str__(self) -> str:
        where = " / ".join(p for p in (self.file, self.question, self.field) if p)
        return f"{where}: {self.message}"


@dataclass
class ParsedBank:
    topics: list[TopicSpec] = field(default_factory=list)
    questions: list[QuestionSpec] = field(default_factory=list)
    synonyms: list[list[str]] = field(default_factory=list)
    errors: list[BankError] = field(default_factory=list)
    invalid_slugs: set[str] = field(default_factory=set)


def _location(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc))


def parse_document(text: str, *, filename: str, into: ParsedBank | None = None) -> ParsedBank:
    """Parse one YAML document; every problem is collected, none raised."""
    bank = into if into is not None else ParsedBank()
    try:
        data = safe_yaml.load(text)
    except safe_yaml.YamlLimitExceeded as exc:
        bank.errors.append(BankError(filename, "", "", f"refused, too large to read: {exc}. {safe_yaml.LIMITS}"))
        return bank
    except yaml.YAMLError as exc:
        bank.errors.append(BankError(filename, "", "", f"not valid YAML: {exc}"))
        return bank
    if data is None:
        return bank
    if _has_nul(data):  # written as "\0" or "\x00" in a quoted string: PostgreSQL cannot store it
        bank.errors.append(BankError(filename, "", "", "contains a NUL character (\\0 in a quoted string)"))
        return bank
    if not isinstance(data, dict) or not set(data) <= {"topics", "questions", "synonyms"}:
        bank.errors.append(BankError(filename, "", "",
                                     "expected a mapping with 'topics', 'questions' and/or 'synonyms'"))
        return bank
    if not all(isinstance(data.get(key) or [], list) for key in data):  # a string would be read letter by letter
        bank.errors.append(BankError(filename, "", "", "'topics', 'questions' and 'synonyms' must each be a list"))
        return bank
    for index, raw in enumerate(data.get("topics") or []):
        _validate_into(bank, TopicSpec, raw, filename, f"topics[{index}]", bank.topics)
    for index, raw in enumerate(data.get("questions") or []):
        _validate_into(bank, QuestionSpec, raw, filename, f"questions[{index}]", bank.questions)
    groups = data.get("synonyms") or []
    if not all(isinstance(g, list) and all(isinstance(w, str) for w in g) for g in groups):
        bank.errors.append(BankError(filename, "", "synonyms", "each synonym group must be a list of words"))
    else:
        bank.synonyms.extend([w.lower() for w in g] for g in groups)
    return bank


def _has_nul(data: Any) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in data.items())
    return isinstance(data, list) and any(_has_nul(item) for item in data)


def _validate_into(bank: ParsedBank, model: type[BaseModel], raw: Any, filename: str, where: str,
                   out: list[Any]) -> None:
    label = raw.get("slug", where) if isinstance(raw, dict) else where
    try:
        out.append(model.model_validate(raw))
    except ValidationError as exc:
        bank.invalid_slugs.add(str(label))
        for err in exc.errors():
            message = err["msg"].removeprefix("Value error, ")
            bank.errors.append(BankError(filename, str(label), _location(err["loc"]) or "", message))


def check_references(bank: ParsedBank, *, known_topics: set[str]) -> None:
    """Cross-document checks: duplicate slugs and unknown topics."""
    topics = known_topics | {t.slug for t in bank.topics}
    seen: set[str] = set()
    for spec in bank.questions:
        if spec.slug in seen:
            bank.errors.append(BankError("", spec.slug, "slug", "this slug appears more than once"))
            bank.invalid_slugs.add(spec.slug)
        seen.add(spec.slug)
        if spec.topic not in topics:
            bank.errors.append(BankError("", spec.slug, "topic", f"unknown topic {spec.topic!r}"))
            bank.invalid_slugs.add(spec.slug)


def read_path(path: Path) -> ParsedBank:
    """Read a bank from one YAML file or from every *.yaml file of a directory."""
    bank = ParsedBank()
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
    for file in files:
        if file.stat().st_size > MAX_FILE_BYTES:
            bank.errors.append(BankError(file.name, "", "", f"file is larger than {MAX_FILE_BYTES // 1024} KiB"))
            continue
        parse_document(file.read_text(encoding="utf-8"), filename=file.name, into=bank)
    return bank


def default_bank_dir() -> Path:
    return Path(str(resources.files("webapp") / "question_bank"))


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML with block scalars for multi-line strings, so exported files stay readable."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)


class _BlockDumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) and " \n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_presenter)
