"""Jurisdiction scope: who may see which rows.

This module is the *only* place where a user's scope turns into a query filter. Each scoped
model declares how to reach the three things a principal can be bound to:

``scope_jurisdiction``
    a lookup that ends at a materialised jurisdiction path (``"enterprise__jurisdiction__path"``);
    regulators and auditors see rows whose path starts with their own node's path, i.e. their
    node and everything below it;
``scope_enterprise``
    a lookup that ends at an enterprise id (``"enterprise"``, or ``"pk"`` for the enterprise
    itself); enterprise users see their own enterprise, O&M contractors the enterprises they serve;
``scope_logger``
    a lookup that ends at a data-logger id; device tokens see their own logger.

A model that does not declare the lookup for a principal's kind shows that principal nothing:
the default is to refuse. Reference data (codes, standards) set ``scope_public = True`` and are
filtered by permission only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


@dataclass(frozen=True)
class Scope:
    """Where a principal may act. Exactly one of the fields is meaningful."""

    everything: bool = False
    jurisdiction_path: str | None = None
    enterprise_ids: frozenset[int] = field(default_factory=frozenset)
    logger_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not (self.everything or self.jurisdiction_path or self.enterprise_ids or self.logger_ids)


NOTHING = Scope()


def user_scope(user: AbstractBaseUser | AnonymousUser | None) -> Scope:
    """The scope of ``user``; anonymous and unbound users get :data:`NOTHING`."""
    if user is None or not user.is_authenticated:
        return NOTHING
    cached = getattr(user, "_totalcap_scope", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    getter = getattr(user, "get_scope", None)
    scope = getter() if getter is not None else NOTHING
    user.__dict__["_totalcap_scope"] = scope
    return scope


def _lookup(prefix: str, suffix: str) -> str:
    return f"{prefix}__{suffix}" if prefix else suffix


def permission_name(model: type[models.Model], action: str) -> str:
    """``app_label.<action>_<model>``, the Django permission for ``action`` on ``model``."""
    opts = model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


class ScopedQuerySet(models.QuerySet[Any]):
    """QuerySet with :meth:`restrict`, the single enforcement point of jurisdiction scope."""

    def restrict(self, user: Any, action: str | None = "view") -> Self:
        """Rows of this queryset that ``user`` may ``action`` (view, add, change, delete, …).

        ``action=None`` skips the permission check and applies the scope only (used to decide
        whether a related object is visible at all).
        """
        if (
            user is None
            or not getattr(user, "is_authenticated", False)
            or not getattr(user, "is_active", False)
        ):
            return self.none()
        if action is not None and not user.has_perm(permission_name(self.model, action)):
            return self.none()
        scope = user_scope(user)
        condition = scope_condition(self.model, scope)
        if condition is None:
            return self.none()
        return self.filter(condition) if condition else self

    def in_scope_of(self, scope: Scope) -> Self:
        """Rows visible to a scope, without a permission check (for jobs and services)."""
        condition = scope_condition(self.model, scope)
        if condition is None:
            return self.none()
        return self.filter(condition) if condition else self


def scope_condition(model: type[models.Model], scope: Scope) -> Q | None:
    """The filter for ``scope`` on ``model``; ``Q()`` for everything, ``None`` for nothing."""
    if scope.everything or getattr(model, "scope_public", False):
        return Q()
    jurisdiction = getattr(model, "scope_jurisdiction", None)
    enterprise = getattr(model, "scope_enterprise", None)
    logger_lookup = getattr(model, "scope_logger", None)
    if scope.jurisdiction_path and jurisdiction is not None:
        return Q(**{_lookup(jurisdiction, "startswith"): scope.jurisdiction_path})
    if scope.enterprise_ids and enterprise is not None:
        return Q(**{_lookup(enterprise, "in"): sorted(scope.enterprise_ids)})
    if scope.logger_ids and logger_lookup is not None:
        return Q(**{_lookup(logger_lookup, "in"): sorted(scope.logger_ids)})
    return None


class ScopedModelMixin:
    """Declarations a scoped model may override (see the module docstring)."""

    scope_jurisdiction: ClassVar[str | None] = None
    scope_enterprise: ClassVar[str | None] = None
    scope_logger: ClassVar[str | None] = None
    scope_public: ClassVar[bool] = False
