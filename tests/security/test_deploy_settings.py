"""Production settings pass Django's deployment checks, and the headers say so."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.mark.parametrize("proxy", [{}, {"BEHIND_TLS_PROXY": "true"}], ids=["direct", "proxy"])
def test_check_deploy_is_clean_with_production_settings(tmp_path, proxy):
    env = {
        **proxy,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": "prod1:" + base64.b64encode(os.urandom(32)).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "casework.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_security_headers_and_a_request_id(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/accounts/login/")["X-Request-ID"] != response["X-Request-ID"]
