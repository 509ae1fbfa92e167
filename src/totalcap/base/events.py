"""The domain event log: append one event per state change; verify the hash chain.

Appends are serialised with a transaction-scoped advisory lock, so the chain order is the commit
order and every event links to the event committed just before it. The lock is held until the
surrounding transaction ends; keep event-writing transactions short.

A use case that records several events in one transaction (a quota crossing: the alarm, the valve
order, its commands) may wrap itself in :func:`appended_together`: the events are then collected
and appended at the end of the block with one lock, one read of the chain head and one INSERT, and
the chain lock is held only from that append to the commit instead of from the first event on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from totalcap.base.models import DomainEvent

GENESIS = "0" * 64
#: Advisory-lock key of the event chain (an arbitrary constant, "TCEVENTS").
CHAIN_LOCK_KEY = 0x54434556454E5453 & 0x7FFFFFFFFFFFFFFF


def normalise(value: Any) -> Any:
    """Turn a payload into plain JSON values that survive a jsonb round trip unchanged.

    Floats become strings (jsonb would rewrite ``1e+20`` as ``100000000000000000000``), as do
    Decimals, dates and times; model instances become their primary key.
    """
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [normalise(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def _canonical(event: DomainEvent) -> bytes:
    body = {
        "prev": event.prev_hash,
        "at": event.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "type": event.object_type,
        "id": event.object_id,
        "repr": event.object_repr,
        "action": event.action,
        "payload": event.payload,
        "jurisdiction": event.jurisdiction_path,
        "enterprise": event.enterprise_ref,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def compute_hash(event: DomainEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def _scope_of(obj: Any) -> tuple[str, int | None]:
    """The jurisdiction path and enterprise id an object belongs to, if it declares them."""
    getter = getattr(obj, "event_scope", None)
    if callable(getter):
        path, enterprise_id = getter()
        return path or "", enterprise_id
    return "", None


def object_label(obj: Any) -> tuple[str, str]:
    if isinstance(obj, models.Model):
        return obj._meta.label_lower, str(obj.pk)
    if isinstance(obj, tuple) and len(obj) == 2:
        return str(obj[0]), str(obj[1])
    raise TypeError(f"cannot record an event for {obj!r}")


def _new_event(
    actor: Any,
    obj: Any,
    action: str,
    payload: dict[str, Any] | None,
    jurisdiction_path: str | None,
    enterprise_id: int | None,
) -> DomainEvent:
    """The event's content as of now (not yet linked into the chain)."""
    object_type, object_id = object_label(obj)
    path, enterprise = _scope_of(obj)
    if jurisdiction_path is not None:
        path = jurisdiction_path
    if enterprise_id is not None:
        enterprise = enterprise_id
    if actor is None:
        actor_id, actor_label = None, "system"
    elif isinstance(actor, str):
        actor_id, actor_label = None, actor
    else:
        actor_id = getattr(actor, "pk", None)
        actor_label = actor.get_username() if hasattr(actor, "get_username") else str(actor)
    return DomainEvent(
        actor_id=actor_id,
        actor_label=actor_label[:150],
        object_type=object_type,
        object_id=object_id[:64],
        object_repr=str(obj)[:255] if isinstance(obj, models.Model) else "",
        action=action,
        payload=normalise(payload or {}),
        jurisdiction_path=path,
        enterprise_ref=enterprise,
    )


def _append(events: list[DomainEvent]) -> None:
    """Link ``events`` (in order) after the chain head and insert them, inside the caller's
    transaction. The advisory lock is taken *before* the head is read — by ``base_chain_head()``
    (migration base 0003), whose read takes a snapshot of its own after the lock was granted, so
    that it sees every event committed before."""
    with connection.cursor() as cur:
        cur.execute("SELECT base_chain_head(%s)", [CHAIN_LOCK_KEY])
        prev = cur.fetchone()[0] or GENESIS
    for event in events:
        event.occurred_at = timezone.now()  # the time of the append, as for a single record
        event.prev_hash = prev
        event.hash = prev = compute_hash(event)
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        DomainEvent.objects.bulk_create(events)


def record(
    actor: Any,
    obj: Any,
    action: str,
    payload: dict[str, Any] | None = None,
    *,
    jurisdiction_path: str | None = None,
    enterprise_id: int | None = None,
) -> DomainEvent:
    """Append a domain event for ``obj`` (a model instance or ``(type, id)``) inside the caller's
    transaction. ``actor`` is a user, ``None`` for the system, or a string label.

    Inside :func:`appended_together` the event is collected and appended at the end of that block
    (the returned instance gets its id and hash then)."""
    event = _new_event(actor, obj, action, payload, jurisdiction_path, enterprise_id)
    batch = _current_batch()
    if batch is not None:
        batch.collect(event)
        return event
    # savepoint=False: an event that cannot be appended dooms the caller's transaction, so a state
    # change never commits without its event (and the two savepoint round trips are saved).
    with transaction.atomic(savepoint=False):
        _append([event])
    return event


class _Kept:
    """An on-commit marker of one collected event: Django drops it when the savepoint the event
    was recorded in is rolled back, and then the event must not be appended either."""

    __slots__ = ()

    def __call__(self) -> None:
        return None


@dataclass
class _Batch:
    connection_alias: str
    pending: list[tuple[DomainEvent, _Kept]] = field(default_factory=list)

    def collect(self, event: DomainEvent) -> None:
        marker = _Kept()
        transaction.on_commit(marker, using=self.connection_alias)
        self.pending.append((event, marker))

    def surviving(self) -> list[DomainEvent]:
        """The collected events whose savepoints were not rolled back (see :class:`_Kept`)."""
        registered = transaction.get_connection(self.connection_alias).run_on_commit
        alive = {id(entry[1]) for entry in registered}
        return [event for event, marker in self.pending if id(marker) in alive]


_local = threading.local()


def _current_batch() -> _Batch | None:
    batch: _Batch | None = getattr(_local, "batch", None)
    if batch is not None and not transaction.get_connection(batch.connection_alias).in_atomic_block:
        return None  # pragma: no cover - the block always runs inside its own atomic
    return batch


@contextmanager
def appended_together() -> Iterator[None]:
    """Collect the events recorded in this block and append them together at its end, in the
    order they were recorded, with one chain lock, one head read and one INSERT.

    The block runs in a transaction (the caller's, or one it opens); the append happens inside it,
    so the events commit with the changes they describe, or not at all: an exception leaving the
    block dooms the transaction. An event recorded in a savepoint that was rolled back (a nested
    ``atomic`` whose error was caught inside the block) is not appended. A nested block joins the
    outer one. Code inside the block must not read the chain (its events are not there yet).
    """
    if getattr(_local, "batch", None) is not None:
        yield
        return
    batch = _Batch(connection.alias)
    _local.batch = batch
    try:
        with transaction.atomic(savepoint=False):
            yield
            _local.batch = None
            events = batch.surviving()
            if events:
                _append(events)
    finally:
        _local.batch = None


@dataclass(frozen=True)
class ChainBreak:
    """The first event whose stored hash or link does not match the recomputed chain."""

    event_id: int
    reason: str
    stored: str
    expected: str
    action: str
    object: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _iter_events(chunk: int = 2000) -> Iterator[DomainEvent]:
    return DomainEvent.objects.order_by("id").iterator(chunk_size=chunk)


def verify_chain() -> ChainReport:
    """Recompute the whole chain and return the first broken link, if any."""
    prev = GENESIS
    checked = 0
    for event in _iter_events():
        label = f"{event.object_type}:{event.object_id}"
        if event.prev_hash != prev:
            return ChainReport(
                checked,
                prev,
                ChainBreak(event.pk, "link", event.prev_hash, prev, event.action, label),
            )
        expected = compute_hash(event)
        if event.hash != expected:
            return ChainReport(
                checked,
                prev,
                ChainBreak(event.pk, "content", event.hash, expected, event.action, label),
            )
        prev = event.hash
        checked += 1
    return ChainReport(checked, prev, None)


#: Chinese labels of event actions for people (apps add theirs with :func:`register_labels`).
ACTION_LABELS: dict[str, str] = {
    "created": "创建",
    "updated": "修改",
    "deleted": "删除",
    "user_created": "创建用户",
    "token_issued": "签发令牌",
    "token_revoked": "吊销令牌",
    "standard_saved": "保存排放标准",
    "demo_data_loaded": "加载演示数据",
    "submit": "提交",
    "approve": "批准",
    "reject": "驳回",
    "cancel": "撤销",
    "revoke": "注销",
    "expired": "过期",
    "failed": "失败",
}


def register_labels(labels: dict[str, str]) -> None:
    """Add Chinese labels for an app's event actions (call from ``AppConfig.ready()``)."""
    ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    """The Chinese label of an action, or the action itself when none is registered."""
    return ACTION_LABELS.get(action, action)


def events_for(obj: models.Model) -> models.QuerySet[DomainEvent]:
    """The events recorded for one object, newest first."""
    object_type, object_id = object_label(obj)
    return DomainEvent.objects.filter(object_type=object_type, object_id=object_id).order_by("-id")
