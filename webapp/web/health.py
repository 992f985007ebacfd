"""GET /healthz: is this process able to serve, and can it reach its database?"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter()


def database_status(request: Request) -> str:
    try:
        with request.app.state.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database is "down", never a 500
        return f"error: {type(exc).__name__}"
    return "ok"


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    db = database_status(request)
    healthy = db == "ok"
    body = {"status": "ok" if healthy else "degraded", "db": db}
    return JSONResponse(body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})
