"""/admin/outbox: the emails the site sent (or logged, without an SMTP server), their state, and
"Retry now" for one the server refused."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import Response

from webapp.core.errors import ServiceError
from webapp.mail.delivery import deliver_pending
from webapp.mail.outbox import recent_messages, retry_now
from webapp.web.deps import AdminUser, SessionDep, SettingsDep, smtp_server
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import Id
from webapp.web.rendering import flash, render

router = APIRouter(prefix="/admin/outbox")


@router.get("")
def outbox(request: Request, db: SessionDep, settings: SettingsDep) -> Response:
    # Bodies (reset links) only while no SMTP server is set: then this page is how they are read.
    context = {"messages": recent_messages(db), "show_bodies": not settings.smtp_host}
    return render(request, "admin/outbox.html", context)


@router.post("/{message_id}/retry")
def retry_message(request: Request, db: SessionDep, settings: SettingsDep, admin: AdminUser, message_id: Id,
                  tasks: BackgroundTasks) -> Response:
    try:
        message = retry_now(db, message_id=message_id, actor=admin)
    except ServiceError as exc:
        raise HTTPException(http_status(exc), exc.errors["form"]) from None
    tasks.add_task(deliver_pending, request.app.state.db, server=smtp_server(settings))  # after the commit
    flash(request, f"Sending the message to {message.to} again now; its state is below.", "success")
    return redirect_to(request, "outbox")
