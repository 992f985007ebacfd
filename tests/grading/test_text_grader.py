"""The claims grader on hand-made rubrics: polarity, swapped subjects, filler, evidence, patterns, confidence."""

from __future__ import annotations

import time
from typing import Any

import pytest

from webapp.grading.graders.base import GradingTask
from webapp.grading.graders.text import RubricGrader
from webapp.language.passages import sentences
from webapp.language.patterns import PatternError, compiled_pattern
from webapp.language.words import Vocabulary
from webapp.questions.bank import parse_document
from webapp.questions.kinds import QuestionKind
from webapp.questions.rubric_spec import RubricPointSpec

GRADER = RubricGrader([["memory", "ram"], ["thread pool", "threadpool"]])
ASGI = RubricPointSpec(**{"point": "FastAPI is ASGI-based, Flask is WSGI", "weight": 2,
        "claims": ["fastapi ; asgi", "flask ; wsgi"], "need": 2,
        "misconceptions": ["fastapi ; wsgi => FastAPI speaks ASGI, through Starlette; WSGI is Flask's interface.",
                           "flask ; asgi => Flask is a WSGI framework."]})
FILTER = RubricPointSpec(**{"point": "The response model filters the output to the declared fields", "weight": 2,
          "claims": ["response model|it|fastapi ; filter|drop|strip|remove|exclude"]})
MEMORY = RubricPointSpec(**{"point": "UploadFile spools to disk instead of holding the file in memory", "weight": 1,
          "claims": ["bytes ; read|hold|load ; memory", "uploadfile ; spool|disk|temporary file"]})


def grade(answer: str, *rubric: RubricPointSpec | dict[str, Any]) -> dict[str, Any]:
    points = tuple(p if isinstance(p, RubricPointSpec) else RubricPointSpec.model_validate(p) for p in rubric)
    return GRADER.grade(GradingTask(kind=QuestionKind.text, answer_text=answer, rubric=points)).feedback


def verdicts(answer: str, *rubric: RubricPointSpec | dict[str, Any]) -> list[str]:
    return [p["verdict"] for p in grade(answer, *rubric)["points"]]


def test_a_paraphrase_is_credited_and_both_claims_make_the_point() -> None:
    assert verdicts("FastAPI runs on ASGI, while Flask sticks to the older WSGI interface.", ASGI) == ["met"]
    assert verdicts("FastAPI runs on ASGI and it is quick to write APIs with it.", ASGI) == ["partly"]


@pytest.mark.parametrize("answer", [
    "Flask is the ASGI framework and FastAPI is WSGI, so FastAPI blocks a worker per request.",
    "Actually FastAPI is a WSGI framework like Django, and Flask moved to ASGI in version 2.",
])
def test_swapped_subjects_contradict_the_point_and_are_named(answer: str) -> None:
    point = grade(answer, ASGI)["points"][0]
    assert point["verdict"] == "contradicted" and not point["covered"]
    assert point["contradiction"]["quote"] in answer.replace("\n", " ")
    assert point["contradiction"]["why"].startswith(("FastAPI speaks ASGI", "Flask is a WSGI"))


@pytest.mark.parametrize("answer", [
    "The response model does not filter anything: FastAPI returns every field of the object.",
    "It never drops fields from the output, whatever you declare.",
    "FastAPI doesn't strip the data down to the declared fields.",
])
def test_a_negated_claim_contradicts_instead_of_crediting(answer: str) -> None:
    assert verdicts(answer, FILTER) == ["contradicted"]


def test_negation_elsewhere_in_the_sentence_does_not_flip_the_claim() -> None:
    assert verdicts("The response model filters the output to the declared fields, not the input.", FILTER) == ["met"]
    assert verdicts("It is not only documentation: the response model strips the data to the declared fields.",
                    FILTER) == ["met"]
    assert verdicts("FastAPI uses ASGI rather than WSGI, and unlike Flask it is async-first; Flask is WSGI.",
                    ASGI) == ["met"]


def test_a_contradiction_wins_over_a_sentence_that_also_states_the_claim() -> None:
    feedback = grade("The response model filters the output. Then again, it does not filter the data at all.", FILTER)
    assert feedback["points"][0]["verdict"] == "contradicted" and feedback["points"][0]["conflict"]
    assert feedback["provisional"]


def test_lemmas_and_synonyms_credit_paraphrases() -> None:
    answer = "Reading it as bytes holds the whole upload in RAM, whereas UploadFile spooled it to a temporary file."
    assert verdicts(answer, MEMORY) == ["met"]


def test_filler_dressed_terms_assert_nothing() -> None:
    answer = ("In my view it is all about the response model filtering of the output fields, and then there is the "
              "FastAPI ASGI thing, and of course the Flask WSGI side as well.")
    feedback = grade(answer, FILTER, ASGI)
    assert [p["verdict"] for p in feedback["points"]] == ["missed", "missed"]
    assert "filler" in feedback["flags"]


def test_keyword_lists_are_flagged_and_earn_almost_nothing() -> None:
    result = GRADER.grade(GradingTask(kind=QuestionKind.text, rubric=(FILTER, ASGI),
                                      answer_text="response model, filter, fields, FastAPI, ASGI, Flask, WSGI, output"))
    assert "keyword_list" in result.feedback["flags"] and result.score <= 10


def test_evidence_is_whole_rendered_sentences_with_code_intact() -> None:
    answer = "Intro here. A **blocking** call like `time.sleep(2)` stalls the loop, e.g. in an async route. The end."
    found = sentences(answer)
    assert [s.text for s in found] == ["Intro here.", "A blocking call like time.sleep(2) stalls the loop, "
                                       "e.g. in an async route.", "The end."]
    assert answer[found[1].start:found[1].end].startswith("A **blocking**")
    point = {"point": "Blocking calls stall the loop", "weight": 1,
             "claims": ["blocking call|time sleep ; stall|block ; loop"]}
    evidence = grade(answer, point)["points"][0]["evidence"]
    assert evidence == found[1].text


def test_patterns_are_re2_case_insensitive_and_refuse_what_could_stall() -> None:
    point = {"point": "Disables it", "weight": 1, "claims": ["response model ; none"],
             "patterns": [r"response_model\s*=\s*None"]}
    assert verdicts("Pass RESPONSE_MODEL = None to switch it off.", point) == ["met"]
    with pytest.raises(PatternError, match="back-references"):
        compiled_pattern(r"(a+)\1")
    started = time.perf_counter()
    assert compiled_pattern(r"(a+)+$").search("a" * 50_000 + "!") is None  # catastrophic for backtracking engines
    assert time.perf_counter() - started < 1


def test_the_bank_refuses_bad_claims_patterns_and_one_word_claims() -> None:
    def errors(point: str) -> list[str]:
        document = ("questions:\n  - {slug: q, topic: t, difficulty: easy, kind: text, title: T, prompt: P,\n"
                    f"     rubric: [{point}]}}\n")
        return [e.message for e in parse_document(document, filename="f.yaml").errors]
    assert any("one word proves nothing" in m for m in errors("{point: p, weight: 1, claims: [filters]}"))
    assert any("empty alternative" in m for m in errors("{point: p, weight: 1, claims: ['a || b ; c']}"))
    assert any("say why" in m for m in errors("{point: p, weight: 1, claims: ['a ; b'], misconceptions: ['a ; c']}"))
    assert any("RE2" in m for m in errors(r"{point: p, weight: 1, claims: ['a ; b'], patterns: ['(x)\1']}"))
    assert any("need is 3" in m for m in errors("{point: p, weight: 1, claims: ['a ; b'], need: 3}"))
    assert not errors("{point: p, weight: 1, claims: ['a ; b', 'two words'], need: 2}")


def test_older_phrase_rubrics_still_grade_and_never_contradict() -> None:
    point = {"point": "Filters", "weight": 1, "phrases": ["declared fields"]}
    assert verdicts("Only the declared fields are sent.", point) == ["met"]
    assert verdicts("It does not send undeclared... no wait, declared fields only.", point) != ["contradicted"]


def test_confidence_is_high_for_clear_answers_and_low_for_borderline_ones() -> None:
    clear = grade("FastAPI runs on ASGI, while Flask is a WSGI framework. The response model strips the output "
                  "down to the declared fields, which keeps secrets in.", ASGI, FILTER)
    assert clear["confidence"] >= 0.8 and not clear["provisional"]
    borderline = grade("FastAPI runs on ASGI. The response model filters the output, but then it does not "
                       "filter the data.", ASGI, FILTER)
    assert borderline["confidence"] < 0.6 and borderline["provisional"]


def test_vocabulary_folds_multi_word_synonyms_and_contractions() -> None:
    vocabulary = Vocabulary([["thread pool", "threadpool"]])
    assert vocabulary.keys("a thread pool") == vocabulary.keys("a threadpool")
    assert vocabulary.keys("it doesn't run") == vocabulary.keys("it does not running")


def test_terms_strung_together_with_and_earn_nothing_and_say_why() -> None:
    answer = ("So the response model is about the filtering and the output fields and the declared data and the "
              "FastAPI ASGI side and the Flask WSGI side and the documentation and the schema and the rest.")
    feedback = grade(answer, FILTER, ASGI)
    assert "strung_together" in feedback["flags"] and all(not p["covered"] for p in feedback["points"])
    assert any("strings the right terms together" in note for note in feedback["notes"])
    assert feedback["points"][0]["hint"] is None or isinstance(feedback["points"][0]["hint"], str)


THREAD = {"point": "A plain def endpoint runs in a thread pool", "weight": 1,
          "claims": ["plain def|def endpoint|sync endpoint ; run|execute ; thread pool|worker thread"]}
CONVERT = {"point": "Path parameters are converted to their declared type", "weight": 1,
           "claims": ["path parameter ; convert|parse|coerce"]}
CACHE = {"point": "Trade-offs include harder caching", "weight": 1, "claims": ["caching ; hard|harder|difficult"]}


def test_negation_stays_in_its_own_clause_and_conditions_deny_nothing() -> None:
    assert verdicts("A sync endpoint doesn't block the event loop because it runs in a worker thread.",
                    THREAD) == ["met"]
    assert verdicts("If a path parameter cannot be converted to int, FastAPI answers 422.", CONVERT) != ["contradicted"]
    assert verdicts("A path parameter is not converted at all; you get the raw string.", CONVERT) == ["contradicted"]
    assert verdicts("Expect harder caching, since everything is one POST endpoint.", CACHE) == ["met"]


def test_words_after_a_claim_can_take_it_back() -> None:
    point = {"point": "Authorization per resolver", "weight": 1, "claims": ["authorization ; per field|per resolver"]}
    assert verdicts("Once the user is logged in, authorization per field is redundant.", point) == ["contradicted"]
    assert verdicts("Authorization per resolver is not needed with a router dependency.", point) == ["contradicted"]
    assert verdicts("Authorization per resolver is essential, because fields differ.", point) == ["met"]


def test_a_bold_lead_in_ends_its_sentence() -> None:
    found = sentences("**No mixing with JSON.** A request body has one encoding, so `x_y` stays whole.")
    assert [s.text for s in found] == ["No mixing with JSON.", "A request body has one encoding, so x_y stays whole."]


def test_a_claim_does_not_reach_across_a_comma_into_another_statement() -> None:
    point = {"point": "HttpOnly hides the cookie from JavaScript", "weight": 1,
             "claims": ["httponly ; javascript|script"]}
    assert verdicts("HttpOnly restricts the cookie to HTTPS, Secure stops JavaScript from reading it.",
                    point) == ["missed"]
    assert verdicts("HttpOnly, which is a cookie flag, keeps JavaScript away from it.", point) == ["met"]


def test_a_negation_ends_where_a_new_statement_starts_after_and() -> None:
    point = {"point": "Invalid input gets a 422", "weight": 1, "claims": ["client ; 422"]}
    assert verdicts("The endpoint never runs and the client gets a 422 listing each error.", point) == ["met"]
    assert verdicts("The client never gets a 422, only a 500.", point) == ["contradicted"]


def test_a_bare_no_as_a_value_negates_nothing_after_it() -> None:
    point = {"point": "Keep the connection alive with pings", "weight": 1, "claims": ["send|ping ; comment|keep alive"]}
    assert verdicts("Set X-Accel-Buffering: no and ping with a comment every 15 seconds.", point) == ["met"]
    assert verdicts("There is no ping comment, so proxies drop the connection.", point) == ["contradicted"]
    overhead = {"point": "The middleware adds overhead", "weight": 1, "claims": ["middleware ; add|cost ; overhead"]}
    assert verdicts("The middleware adds no or little overhead.", overhead) == ["contradicted"]


def test_a_list_of_mistakes_to_avoid_denies_nothing() -> None:
    point = {"point": "Expose custom headers", "weight": 1, "claims": ["expose headers ; custom header"]}
    assert verdicts("Mistakes I'd avoid: no expose headers when the SPA must read a custom header.",
                    point) != ["contradicted"]


def test_a_run_on_stretch_of_terms_earns_nothing() -> None:
    stuffed = " ".join(["response model filter output fields FastAPI ASGI Flask WSGI"] * 30)
    feedback = grade(stuffed, FILTER, ASGI)
    assert "run_on" in feedback["flags"] or "keyword_list" in feedback["flags"]
    assert all(not p["covered"] for p in feedback["points"])
    honest = grade("FastAPI runs on ASGI, while Flask is a WSGI framework. " * 3, ASGI)
    assert "run_on" not in honest["flags"] and honest["points"][0]["verdict"] == "met"
