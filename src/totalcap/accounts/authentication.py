"""API token authentication: ``Authorization: Token tc_<prefix>_<secret>`` (or ``Bearer``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from totalcap.accounts.models import ApiToken

logger = logging.getLogger("totalcap.auth")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def split_key(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "tc" or not parts[1] or not parts[2]:
        return None
    return parts[1]


def client_address(request: Any) -> str | None:
    return request.META.get("REMOTE_ADDR")


def authenticate_key(key: str, address: str | None) -> ApiToken:
    """The active token for ``key`` used from ``address``; raises AuthenticationFailed."""
    prefix = split_key(key)
    if prefix is None:
        raise exceptions.AuthenticationFailed("令牌格式不正确。", code="token_malformed")
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, hash_key(key)):
        raise exceptions.AuthenticationFailed("令牌无效。", code="token_invalid")
    if token.revoked_at is not None:
        raise exceptions.AuthenticationFailed("令牌已吊销。", code="token_revoked")
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise exceptions.AuthenticationFailed("令牌已过期。", code="token_expired")
    if not token.allows_address(address):
        logger.warning("token %s used from disallowed address %s", token.prefix, address)
        raise exceptions.AuthenticationFailed("令牌不允许从该地址使用。", code="token_network")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("令牌所属用户已停用。", code="user_inactive")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=address)
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """DRF authentication by API token; ``request.auth`` is the :class:`ApiToken`."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization 头格式不正确。", code="token_header")
        token = authenticate_key(header[1], client_address(request))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"
