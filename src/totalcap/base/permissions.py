"""The API permission class (kept apart from :mod:`totalcap.base.api` to avoid an import cycle:
DRF imports its default permission classes while importing its own views)."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from totalcap.base.scope import permission_name


class ScopedModelPermission(permissions.BasePermission):
    """Authenticated, and holding the model permission for the view's action (403 otherwise).

    Which rows are reachable is decided by the viewset's restricted queryset (404 outside scope).
    Views that are not scoped viewsets only require authentication here and check their own.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        token = getattr(request, "auth", None)
        if (
            token is not None
            and getattr(token, "read_only", False)
            and request.method not in permissions.SAFE_METHODS
        ):
            return False
        model = getattr(view, "model", None)
        if model is None:
            return True
        action = view.scope_action() if hasattr(view, "scope_action") else "view"
        return bool(user.has_perm(permission_name(model, action)))
