"""Account use cases: create users, issue and revoke API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.accounts.authentication import hash_key
from totalcap.accounts.choices import Role
from totalcap.accounts.models import ApiToken, User
from totalcap.base import events
from totalcap.base.exceptions import ServiceError


def create_user(actor: Any, *, username: str, password: str | None, role: str, **fields: Any) -> User:
    """Create a user with a role and its binding; validates like the forms do."""
    served = fields.pop("served_enterprises", None)
    with transaction.atomic():
        user = User(username=username, role=role, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        try:
            user.full_clean()
        except ValidationError as exc:
            raise ServiceError.from_validation(exc) from exc
        user.save()
        if served is not None:
            user.served_enterprises.set(served)
        events.record(actor, user, "user_created", {"role": role})
    return user


def issue_token(
    actor: Any,
    user: User,
    name: str,
    *,
    read_only: bool = True,
    expires_at: datetime | None = None,
    allowed_networks: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; returns the token row and the key (shown only once)."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError(_("过期时间必须晚于当前时间。"), field="expires_at")
    with transaction.atomic():
        prefix = secrets.token_hex(4)
        while ApiToken.objects.filter(prefix=prefix).exists():  # pragma: no cover - 1 in 4 billion
            prefix = secrets.token_hex(4)
        key = f"tc_{prefix}_{secrets.token_urlsafe(32)}"
        token = ApiToken(
            name=name,
            user=user,
            prefix=prefix,
            key_hash=hash_key(key),
            read_only=read_only,
            expires_at=expires_at,
            allowed_networks=list(allowed_networks or []),
        )
        try:
            token.full_clean()
        except ValidationError as exc:
            raise ServiceError.from_validation(exc) from exc
        token.save()
        events.record(actor, token, "token_issued", {"read_only": read_only, "user": user.username})
    return token, key


def device_user(logger: Any) -> User:
    """The principal of a data logger (created on first use)."""
    existing: User | None = User.objects.filter(role=Role.DEVICE, logger=logger).first()
    if existing is not None:
        return existing
    user = User(username=f"device:{logger.mn}", role=Role.DEVICE, logger=logger, full_name=str(logger))
    user.set_unusable_password()
    user.save()
    return user


def issue_device_token(actor: Any, logger: Any, **options: Any) -> tuple[ApiToken, str]:
    """A read-write token that lets a logger use the REST API as itself (e.g. card swipes)."""
    options.setdefault("read_only", False)
    return issue_token(actor, device_user(logger), f"数采仪 {logger.mn}", **options)


def revoke_token(actor: Any, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        locked: ApiToken = ApiToken.objects.select_for_update(no_key=True).get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at", "updated_at"])
            events.record(actor, locked, "token_revoked", {})
    return locked
