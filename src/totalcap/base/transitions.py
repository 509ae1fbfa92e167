"""Explicit life cycles: a transition table and the one service that applies it.

A table lists ``(from-state, action, to-state, permission, guard)`` rows. ``apply_transition``
locks the object, checks that the action exists from the current state, that the actor holds the
permission and the object is in the actor's scope, runs the guard, changes the state, runs the
effect, saves, and appends the domain event — all in one transaction. An action that is not in the
table is refused with a message that names the state and the action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base.exceptions import PermissionRefused, TransitionRefused
from totalcap.base.services import assert_in_scope

Guard = Callable[[Any, Any, dict[str, Any]], str | None]
Effect = Callable[[Any, Any, dict[str, Any]], None]


@dataclass(frozen=True)
class Transition:
    """One row of a life-cycle table."""

    sources: tuple[str, ...]
    action: str
    target: str
    label: str
    permission: str | None = None  # "app.codename"; None = anyone who may change the object
    guard: Guard | None = None
    effect: Effect | None = None
    system_only: bool = False  # only jobs / devices (actor None or a system string) may apply it


@dataclass
class TransitionTable:
    """The life cycle of ``model`` on its ``state_field``."""

    model: type[models.Model]
    state_field: str
    transitions: list[Transition] = field(default_factory=list)

    def find(self, state: str, action: str) -> Transition | None:
        for t in self.transitions:
            if t.action == action and state in t.sources:
                return t
        return None

    def actions(self) -> set[str]:
        return {t.action for t in self.transitions}

    def available(self, obj: Any, actor: Any) -> list[Transition]:
        """Transitions the actor could apply now (permission and guard checked)."""
        state = getattr(obj, self.state_field)
        result = []
        for t in self.transitions:
            if state not in t.sources or t.system_only:
                continue
            if t.permission and not actor.has_perm(t.permission):
                continue
            if t.guard and t.guard(obj, actor, {}) is not None:
                continue
            result.append(t)
        return result

    def rows(self) -> Iterable[tuple[str, str, str, str | None]]:
        for t in self.transitions:
            for s in t.sources:
                yield s, t.action, t.target, t.permission


def _is_system(actor: Any) -> bool:
    return actor is None or isinstance(actor, str)


def apply_transition(
    table: TransitionTable,
    obj: Any,
    action: str,
    actor: Any,
    params: dict[str, Any] | None = None,
    *,
    payload: dict[str, Any] | None = None,
) -> Any:
    """Apply ``action`` to ``obj``; returns the saved, locked instance."""
    params = dict(params or {})
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update(no_key=True).get(pk=obj.pk)
        state = getattr(locked, table.state_field)
        t = table.find(state, action)
        if t is None:
            state_label = _display(locked, table.state_field)
            raise TransitionRefused(
                _("当前状态「%(state)s」不允许执行操作「%(action)s」。")
                % {"state": state_label, "action": action},
                code="transition_not_allowed",
            )
        if t.system_only and not _is_system(actor):
            raise PermissionRefused(_("该操作只能由系统执行。"))
        if not _is_system(actor):
            if t.permission and not actor.has_perm(t.permission):
                raise PermissionRefused(_("您没有执行「%(label)s」的权限。") % {"label": t.label})
            assert_in_scope(actor, locked)
        if t.guard is not None:
            problem = t.guard(locked, actor, params)
            if problem:
                raise TransitionRefused(problem, code="guard_failed")
        setattr(locked, table.state_field, t.target)
        if t.effect is not None:
            t.effect(locked, actor, params)
        locked.save()
        event_payload = {"from": state, "to": t.target}
        if payload:
            event_payload.update(payload)
        events.record(actor, locked, action, event_payload)
    return locked


def _display(obj: Any, field_name: str) -> str:
    getter = getattr(obj, f"get_{field_name}_display", None)
    return str(getter()) if callable(getter) else str(getattr(obj, field_name))
