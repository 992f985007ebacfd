"""The question bank as anyone sees it: the list with search and filters, and one question (public
pages: visitors read them; answering asks them to sign up first)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from webapp.identity.models import Role
from webapp.practice.standing import browse_with_standing, standings
from webapp.questions.catalogue import QuestionFilters, all_tags, get_visible_question
from webapp.web.deps import OptionalUser, SessionDep
from webapp.web.params import Line
from webapp.web.rendering import render

router = APIRouter()


@router.get("/questions")
def question_list(
    request: Request, db: SessionDep, user: OptionalUser, filters: Annotated[QuestionFilters, Query()]
) -> Response:
    page, mine = browse_with_standing(db, user=user, filters=filters)
    context = {"page": page, "filters": page.filters, "tags": all_tags(db), "standings": mine}
    # htmx pushes this clean URL (no empty parameters) into the address bar.
    clean_url = f"/questions?{page.filters.query_string()}".rstrip("?")
    return render(request, "questions/list.html", context, block="results", headers={"HX-Push-Url": clean_url})


@router.get("/questions/{slug}")
def question_detail(request: Request, db: SessionDep, user: OptionalUser, slug: Line) -> Response:
    question = get_visible_question(db, slug=slug, viewer_is_admin=user is not None and user.role == Role.admin)
    if question is None:
        raise HTTPException(404, "There is no such question, or it is not published.")
    mine = standings(db, user=user, question_ids=[question.id]).get(question.id) if user else None
    return render(request, "questions/detail.html", {"question": question, "revision": question.current_revision,
                                                     "standing": mine})
