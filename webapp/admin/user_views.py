"""/admin/users: find people, change roles, deactivate, reset passwords."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response

from webapp.core.errors import ServiceError
from webapp.identity import administration as users
from webapp.identity.models import Role, User
from webapp.web.deps import AdminUser, HasherDep, SessionDep
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import Id
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/admin/users")


def user_or_404(db: SessionDep, user_id: Id) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(404, "There is no such user.")
    return user


TargetUser = Annotated[User, Depends(user_or_404)]


def _list(request: Request, db: SessionDep, filters: users.UserFilters, *, error: str = "", status_code: int = 200,
          one_time: tuple[User, str] | None = None) -> Response:
    page = users.search_users(db, filters=filters)
    context = {"page": page, "filters": filters, "roles": list(Role), "error": error, "one_time": one_time}
    return render(request, "admin/users.html", context, block="results", status_code=status_code)


@router.get("")
def user_list(request: Request, db: SessionDep,
              filters: Annotated[users.UserFilters, Query()]) -> Response:
    return _list(request, db, filters)


@router.post("/{user_id}/role")
def change_role(request: Request, db: SessionDep, admin: AdminUser, user: TargetUser,
                role: Annotated[Role, Form()]) -> Response:
    try:
        users.change_role(db, user=user, role=role, actor=admin)
    except ServiceError as exc:
        return _list(request, db, users.UserFilters(), error=exc.errors["form"], status_code=http_status(exc))
    flash(request, f"{user.email} is now {role.value}; their sessions were ended.", "success")
    return redirect_to(request, "user_list")


@router.post("/{user_id}/active")
def change_active(request: Request, db: SessionDep, admin: AdminUser, user: TargetUser,
                  active: Annotated[bool, Form()]) -> Response:
    try:
        users.change_active(db, user=user, active=active, actor=admin)
    except ServiceError as exc:
        return _list(request, db, users.UserFilters(), error=exc.errors["form"], status_code=http_status(exc))
    flash(request, f"{user.email} was {'reactivated' if active else 'deactivated and logged out'}.", "success")
    return redirect_to(request, "user_list")


@router.post("/{user_id}/password-reset")
def reset_password(request: Request, db: SessionDep, admin: AdminUser, hasher: HasherDep, user: TargetUser) -> Response:
    password = users.reset_password(db, user=user, actor=admin, hasher=hasher)
    # Shown in this response only; it is never stored in clear or put in a URL.
    response = _list(request, db, users.UserFilters(q=user.email), one_time=(user, password))
    response.headers["Cache-Control"] = "no-store"
    return response
