"""The transition-table helper: allowed and refused actions, guards, permissions, events."""

from __future__ import annotations

from typing import Any

import pytest

from totalcap.base.exceptions import PermissionRefused, TransitionRefused
from totalcap.base.models import DomainEvent
from totalcap.base.transitions import Transition, TransitionTable, apply_transition
from totalcap.registry.models import Valve

TABLE = TransitionTable(
    Valve,
    "state",
    [
        Transition(("unknown", "open"), "close", "closed", "关阀", permission="registry.change_valve"),
        Transition(
            ("closed",),
            "open",
            "open",
            "开阀",
            permission="registry.change_valve",
            guard=lambda obj, actor, params: None if params.get("reason") else "开阀须说明原因。",
        ),
        Transition(("closed", "open"), "report_fault", "fault", "上报故障", system_only=True),
    ],
)


def _valve(world: Any) -> Valve:
    return world.e_own.outlets.get(code="DW001").valves.get()


def test_allowed_transition_changes_state_and_records_event(world: Any) -> None:
    valve = apply_transition(TABLE, _valve(world), "close", world.user("county"))
    assert valve.state == "closed"
    event = DomainEvent.objects.order_by("-id").first()
    assert (
        event is not None and event.action == "close" and event.payload == {"from": "unknown", "to": "closed"}
    )


def test_action_not_in_table_from_this_state_is_refused(world: Any) -> None:
    with pytest.raises(TransitionRefused, match="当前状态「未知」不允许执行操作「open」"):
        apply_transition(TABLE, _valve(world), "open", world.user("county"), {"reason": "x"})
    assert Valve.objects.get(pk=_valve(world).pk).state == "unknown"


def test_guard_refuses_with_its_message(world: Any) -> None:
    valve = apply_transition(TABLE, _valve(world), "close", world.user("county"))
    with pytest.raises(TransitionRefused, match="开阀须说明原因"):
        apply_transition(TABLE, valve, "open", world.user("county"), {})
    assert apply_transition(TABLE, valve, "open", world.user("county"), {"reason": "充值"}).state == "open"


def test_permission_scope_and_system_only(world: Any) -> None:
    with pytest.raises(PermissionRefused):
        apply_transition(TABLE, _valve(world), "close", world.user("auditor"))
    from totalcap.base.exceptions import ScopeViolation

    with pytest.raises(ScopeViolation):
        apply_transition(TABLE, _valve(world), "close", world.user("county_other"))
    with pytest.raises(PermissionRefused):
        apply_transition(
            TABLE,
            apply_transition(TABLE, _valve(world), "close", world.user("county")),
            "report_fault",
            world.user("county"),
        )
    assert apply_transition(TABLE, _valve(world), "report_fault", None).state == "fault"


def test_available_lists_what_the_actor_may_do(world: Any) -> None:
    valve = _valve(world)
    assert [t.action for t in TABLE.available(valve, world.user("county"))] == ["close"]
    assert TABLE.available(valve, world.user("auditor")) == []
