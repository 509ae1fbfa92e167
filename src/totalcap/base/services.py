"""Generic use cases shared by the base views and viewsets: save and delete a scoped object.

Each runs in one transaction: lock the row, apply the change, append the domain event, then
re-check inside the same transaction that the row is still within the actor's scope; if not, the
whole transaction rolls back (:class:`ScopeViolation`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base.exceptions import ScopeViolation

M = TypeVar("M", bound=models.Model)


def snapshot(obj: models.Model) -> dict[str, Any]:
    """Concrete field values of ``obj`` (foreign keys as ids), for diffs in events."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in {"created_at", "updated_at"} or getattr(field, "encrypted", False):
            continue
        data[field.attname] = field.value_from_object(obj)
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed: ``{field: [old, new]}``."""
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def assert_in_scope(actor: Any, obj: models.Model, action: str = "change") -> None:
    """Refuse (and so roll back) when ``obj`` is not within the actor's scope after a write."""
    manager = type(obj)._default_manager
    restrict = getattr(manager, "restrict", None)
    if restrict is None:
        return
    if not restrict(actor, None).filter(pk=obj.pk).exists():
        raise ScopeViolation(_("保存后该记录将超出您的管辖范围，操作已撤销。"))


def save_object(
    actor: Any,
    obj: M,
    *,
    write: Callable[[M], M] | None = None,
    action: str | None = None,
    extra: dict[str, Any] | None = None,
) -> M:
    """Create or update ``obj`` for ``actor``; ``write`` performs the save (default ``obj.save()``),
    e.g. a form's ``save()`` so many-to-many data are written too."""
    creating = obj._state.adding or obj.pk is None
    with transaction.atomic():
        if creating:
            before: dict[str, Any] = {}
        else:
            locked = type(obj)._default_manager.select_for_update(no_key=True).get(pk=obj.pk)
            before = snapshot(locked)
        saved = write(obj) if write is not None else _default_write(obj)
        after = snapshot(saved)
        payload: dict[str, Any] = {"changes": diff(before, after)}
        if extra:
            payload.update(extra)
        events.record(actor, saved, action or ("created" if creating else "updated"), payload)
        assert_in_scope(actor, saved)
    return saved


def _default_write(obj: M) -> M:
    obj.full_clean()
    obj.save()
    return obj


def delete_object(actor: Any, obj: models.Model, *, action: str = "deleted") -> None:
    """Delete ``obj`` after recording what it was."""
    with transaction.atomic():
        # FOR UPDATE proper (the row is deleted): a foreign-key check of a row referencing it waits
        locked = type(obj)._default_manager.select_for_update(no_key=False).get(pk=obj.pk)
        events.record(actor, locked, action, {"before": snapshot(locked)})
        locked.delete()
