"""The domain event log: append-only (trigger), hash-chained, verifiable by `totalcap audit verify`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError

from totalcap.base import events
from totalcap.base.models import DomainEvent


def _append_three(world: Any) -> list[DomainEvent]:
    actor = world.user("county")
    return [
        events.record(actor, world.e_own, "checked", {"n": 1, "amount": Decimal("1.50"), "ratio": 0.25}),
        events.record(actor, world.e_own, "noted", {"text": "中文说明", "nested": {"a": [1, 2]}}),
        events.record(None, ("quotas.account", "42"), "posted", {"kg": "12.5"}),
    ]


def test_chain_links_each_event_to_the_previous(world: Any) -> None:
    first, second, third = _append_three(world)
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert first.jurisdiction_path == world.e_own.jurisdiction.path
    assert first.enterprise_ref == world.e_own.pk
    assert third.actor_label == "system"
    report = events.verify_chain()
    assert report.ok and report.checked >= 3 and report.head == third.hash


def test_payload_survives_jsonb_round_trip(world: Any) -> None:
    event = events.record(None, world.e_own, "x", {"big": 1e20, "d": Decimal("0.1"), "s": {3, 1}})
    stored = DomainEvent.objects.get(pk=event.pk)
    assert events.compute_hash(stored) == event.hash
    assert stored.payload == {"big": "1e+20", "d": "0.1", "s": [1, 3]}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE base_domainevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM base_domainevent WHERE id = %s",
    ],
)
def test_trigger_refuses_update_and_delete(world: Any, sql: str) -> None:
    event = _append_three(world)[0]
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, [event.pk])
    assert DomainEvent.objects.get(pk=event.pk).action == "checked"


def test_trigger_refuses_truncate(world: Any) -> None:
    _append_three(world)
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL totalcap.allow_truncate = 'off'")  # as on every production database
        cur.execute("TRUNCATE base_domainevent")
    assert DomainEvent.objects.count() >= 3


def _tamper(sql: str, params: list[Any]) -> None:
    """What a superuser could do: switch the trigger off, change a row, switch it back on."""
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE base_domainevent DISABLE TRIGGER USER")
        cur.execute(sql, params)
        cur.execute("ALTER TABLE base_domainevent ENABLE TRIGGER USER")


def test_verify_passes_on_a_fresh_chain(world: Any, capsys: Any) -> None:
    _append_three(world)
    call_command("audit", "verify")
    assert capsys.readouterr().out.startswith("OK: ")


def test_verify_names_the_changed_event(world: Any) -> None:
    _first, second, _third = _append_three(world)
    _tamper('UPDATE base_domainevent SET payload = \'{"text": "改过了"}\' WHERE id = %s', [second.pk])
    report = events.verify_chain()
    assert not report.ok and report.broken is not None
    assert report.broken.event_id == second.pk and report.broken.reason == "content"
    with pytest.raises(CommandError, match=rf"BROKEN at event #{second.pk} \(noted"):
        call_command("audit", "verify")


def test_verify_names_the_event_after_a_deleted_one(world: Any) -> None:
    _first, second, third = _append_three(world)
    _tamper("DELETE FROM base_domainevent WHERE id = %s", [second.pk])
    report = events.verify_chain()
    assert report.broken is not None
    assert report.broken.event_id == third.pk and report.broken.reason == "link"


def test_registry_writes_append_events(world: Any, api_for: Any) -> None:
    before = DomainEvent.objects.count()
    response = api_for("county").patch(
        f"/api/registry/enterprise/{world.e_own.pk}/", {"address": "海陵区新地址1号"}, format="json"
    )
    assert response.status_code == 200
    event = DomainEvent.objects.order_by("-id").first()
    assert DomainEvent.objects.count() == before + 1
    assert event is not None and event.action == "updated" and event.actor_label == "county"
    assert event.payload["changes"]["address"][1] == "海陵区新地址1号"


def test_events_are_scoped(world: Any, api_for: Any, client_for: Any) -> None:
    events.record(world.user("county"), world.e_own, "own-event", {})
    events.record(world.user("county_other"), world.e_other, "other-event", {})
    own = client_for("county").get("/events/").content.decode()
    assert "own-event" in own and "other-event" not in own
    ent = client_for("ent_other").get("/events/").content.decode()
    assert "other-event" in ent and "own-event" not in ent
    assert client_for("noperm").get("/events/").status_code == 403
    assert client_for(None).get("/events/").status_code == 302
