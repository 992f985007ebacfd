from __future__ import annotations

import stat

import pytest
from pydantic import ValidationError

from webapp.core.config import Settings


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", https=True, data_dir=tmp_path)


def test_production_requires_https(tmp_path):
    with pytest.raises(ValidationError, match="HTTPS"):
        Settings(env="production", secret_key="x" * 40, data_dir=tmp_path)


def test_development_secret_is_generated_once_with_mode_0600(tmp_path):
    first = Settings(data_dir=tmp_path).effective_secret_key
    second = Settings(data_dir=tmp_path).effective_secret_key
    assert first == second and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_https_cookie_is_host_prefixed_and_secure(settings, make_user):
    from starlette.testclient import TestClient

    from tests.conftest import PASSWORD
    from tests.helpers import login
    from webapp.main import create_app

    secure = settings.model_copy(update={"https": True, "public_url": "https://testserver"})
    app = create_app(secure)
    with TestClient(app, base_url="https://testserver") as client:
        user = make_user()
        response = login(client, user.email, PASSWORD)
        cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
        assert set(cookies) == {"__Host-rehearse", "__Host-rehearse-device"}  # the session, the known browser
        for cookie in cookies.values():
            assert "secure" in cookie and "httponly" in cookie and "path=/" in cookie and "domain" not in cookie
        assert "strict-transport-security" in response.headers
    app.state.db.dispose()


def test_production_refuses_the_process_sandbox(tmp_path):
    with pytest.raises(ValidationError, match="bubblewrap"):
        Settings(env="production", secret_key="x" * 40, https=True, sandbox="process", data_dir=tmp_path)
    assert Settings(env="production", secret_key="x" * 40, https=True, data_dir=tmp_path).effective_sandbox == "bwrap"
