"""API tokens (hashed at rest, expiry, read-only, networks, revocation), lockout, password hashing."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from totalcap.accounts import services
from totalcap.accounts.models import ApiToken, User
from totalcap.registry.models import DataLogger


def _client(key: str, address: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_is_hashed_and_authenticates(world: Any) -> None:
    token, key = services.issue_token(None, world.user("county"), "第三方系统")
    assert key.startswith(f"tc_{token.prefix}_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in stored.key_hash and len(stored.key_hash) == 64
    response = _client(key).get("/api/registry/enterprise/")
    assert response.status_code == 200
    assert {r["id"] for r in response.json()["results"]} == {world.e_own.pk}


@pytest.mark.parametrize(
    "mangle", [lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), lambda k: "garbage", lambda k: "tc__x"]
)
def test_wrong_keys_are_refused(world: Any, mangle: Any) -> None:
    _token, key = services.issue_token(None, world.user("county"), "x")
    assert _client(mangle(key)).get("/api/registry/enterprise/").status_code == 401


def test_read_only_token_cannot_write(world: Any) -> None:
    _token, key = services.issue_token(None, world.user("county"), "ro", read_only=True)
    response = _client(key).patch(f"/api/registry/enterprise/{world.e_own.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403
    _token2, key2 = services.issue_token(None, world.user("county"), "rw", read_only=False)
    ok = _client(key2).patch(
        f"/api/registry/enterprise/{world.e_own.pk}/", {"short_name": "改"}, format="json"
    )
    assert ok.status_code == 200


def test_expired_and_revoked_tokens_are_refused(world: Any) -> None:
    token, key = services.issue_token(
        None, world.user("county"), "soon", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert _client(key).get("/api/registry/enterprise/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = _client(key).get("/api/registry/enterprise/")
    assert expired.status_code == 401 and expired.json()["detail"] == "令牌已过期。"
    token2, key2 = services.issue_token(None, world.user("county"), "revoke-me")
    services.revoke_token(None, token2)
    assert _client(key2).get("/api/registry/enterprise/").json()["detail"] == "令牌已吊销。"


def test_issue_refuses_past_expiry(world: Any) -> None:
    from totalcap.base.exceptions import ServiceError

    with pytest.raises(ServiceError):
        services.issue_token(None, world.user("county"), "x", expires_at=timezone.now() - timedelta(days=1))


def test_allowed_networks(world: Any) -> None:
    _token, key = services.issue_token(
        None, world.user("county"), "intranet", allowed_networks=["10.1.0.0/16"]
    )
    assert _client(key, "10.1.2.3").get("/api/registry/enterprise/").status_code == 200
    assert _client(key, "192.168.1.5").get("/api/registry/enterprise/").status_code == 401


def test_device_token_sees_only_its_logger(world: Any) -> None:
    logger = DataLogger.objects.filter(outlet__enterprise=world.e_own, is_total_control=True).get()
    _token, key = services.issue_device_token(None, logger)
    device = User.objects.get(logger=logger)
    assert device.role == "device" and not device.has_usable_password()
    # Devices hold no registry permissions: the registry API is closed to them.
    assert _client(key).get("/api/registry/datalogger/").status_code == 403


def test_tokens_command(world: Any) -> None:
    out = io.StringIO()
    call_command(
        "tokens", "issue", "--user", "county", "--name", "cli", "--network", "10.0.0.0/8", stdout=out
    )
    key = out.getvalue().strip()
    assert key.startswith("tc_")
    with pytest.raises(CommandError, match="no user named ghost"):
        call_command("tokens", "issue", "--user", "ghost", "--name", "x")
    with pytest.raises(CommandError, match="不是有效的网段"):
        call_command("tokens", "issue", "--user", "county", "--name", "x", "--network", "10.0.0.300/8")
    listing = io.StringIO()
    call_command("tokens", "list", stdout=listing)
    assert "county" in listing.getvalue()


def test_lockout_after_repeated_failed_logins(world: Any, settings: Any) -> None:
    from django.test import Client

    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": "county", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "county", "password": "Test-Passw0rd!"})
    assert locked.status_code == 429
    assert "临时锁定" in locked.content.decode()
    other = Client().post("/accounts/login/", {"username": "city", "password": "Test-Passw0rd!"})
    assert other.status_code == 302
    del response


def test_login_page_errors_in_chinese(world: Any) -> None:
    from django.test import Client

    response = Client().post("/accounts/login/", {"username": "county", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_production_hashes_passwords_with_argon2() -> None:
    from totalcap import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
