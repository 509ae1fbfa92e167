"""`totalcap demo-data`: Taizhou with 30+ enterprises and one user per role, idempotent."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command

from totalcap.accounts.choices import Role
from totalcap.accounts.models import User
from totalcap.base.models import DomainEvent
from totalcap.registry.models import DataLogger, Enterprise, Outlet, Valve


def _state() -> dict[str, Any]:
    return {
        "enterprises": list(Enterprise.objects.order_by("pk").values()),
        "outlets": list(Outlet.objects.order_by("pk").values()),
        "loggers": list(DataLogger.objects.order_by("pk").values("mn", "outlet_id", "is_total_control")),
        "valves": list(Valve.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values("username", "password", "role")),
        "events": DomainEvent.objects.count(),
    }


def test_demo_data_loads_taizhou_and_is_idempotent(world: Any) -> None:
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    text = out.getvalue()
    taizhou = Enterprise.objects.filter(jurisdiction__path__startswith="320000/321200/")
    assert taizhou.count() >= 30
    assert set(taizhou.values_list("industry__code", flat=True)) >= {"4411", "3011", "2221", "1352", "2614"}
    assert Valve.objects.filter(outlet__enterprise__in=taizhou).count() >= 10
    assert DataLogger.objects.filter(outlet__enterprise__in=taizhou, is_total_control=True).exists()
    for role in Role:
        if role != Role.DEVICE:
            assert User.objects.filter(role=role).exists(), role
    for username in ("admin", "taizhou", "hailing", "qiye", "yunwei", "shenji"):
        assert username in text
    before = _state()
    again = io.StringIO()
    call_command("demo_data", stdout=again)
    assert _state() == before
    assert "enterprises 0" in again.getvalue()


def test_demo_users_are_scoped(world: Any) -> None:
    call_command("demo_data", stdout=io.StringIO())
    hailing = User.objects.get(username="hailing")
    visible = Enterprise.objects.restrict(hailing, "view")
    assert visible.exists()
    assert set(visible.values_list("jurisdiction__code", flat=True)) == {"321202"}
    qiye = User.objects.get(username="qiye")
    assert list(Enterprise.objects.restrict(qiye, "view")) == [qiye.enterprise]
