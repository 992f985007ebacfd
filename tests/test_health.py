from __future__ import annotations

from starlette.testclient import TestClient

from webapp.core.config import Settings
from webapp.main import create_app


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["db"] == "ok"


def test_healthz_503_when_the_database_is_unreachable(tmp_path):
    settings = Settings(env="test", data_dir=tmp_path, secret_key="k",
                        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["db"].startswith("error")
