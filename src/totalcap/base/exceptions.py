"""Errors raised by services. Each carries an English ``code`` for logs and the API and a
Chinese ``message`` for people."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A use case refused: nothing was changed."""

    code = "refused"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **extra: Any):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.field = field
        self.extra = extra

    @classmethod
    def from_validation(cls, exc: Any) -> ServiceError:
        """A :class:`django.core.exceptions.ValidationError` as a service error (first field wins)."""
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.message_dict.items()))
            return cls("；".join(errors), code="invalid", field=None if field == "__all__" else field)
        return cls("；".join(exc.messages), code="invalid")


class ScopeViolation(ServiceError):
    """The change would put the object outside the actor's jurisdiction or enterprise."""

    code = "out_of_scope"
    status = 403


class PermissionRefused(ServiceError):
    code = "permission_denied"
    status = 403


class TransitionRefused(ServiceError):
    """The life-cycle table has no such transition from the current state, or its guard said no."""

    code = "transition_refused"
    status = 409
