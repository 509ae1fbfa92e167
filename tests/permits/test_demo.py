"""``totalcap permits demo|daily|load-rules`` on the Taizhou demo: idempotent, through the services."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.core.management import call_command

from totalcap.permits.models import ExecutionReport, LimitCalculation, Permit, PermitVersion, Reminder


def test_demo_permits(world: Any) -> None:
    from totalcap.registry.demo import load_demo

    load_demo(quiet=True)
    out = StringIO()
    call_command("permits", "demo", stdout=out)
    assert "Demo permits:" in out.getvalue()
    issued = Permit.objects.filter(status__in=["valid", "suspended"])
    assert issued.count() >= 20
    assert Permit.objects.filter(status="suspended").count() == 1
    assert PermitVersion.objects.filter(status="under_review", kind="change").exists()
    assert LimitCalculation.objects.filter(enterprise__industry__code="1352").exists()
    assert ExecutionReport.objects.filter(status="accepted").exists()
    assert Reminder.objects.filter(kind="renewal").exists()
    before = (Permit.objects.count(), PermitVersion.objects.count(), ExecutionReport.objects.count())
    call_command("permits", "demo", stdout=StringIO())
    assert (Permit.objects.count(), PermitVersion.objects.count(), ExecutionReport.objects.count()) == before
    out = StringIO()
    call_command("permits", "daily", stdout=out)
    assert "0 expired, 0 reports scheduled" in out.getvalue()
    out = StringIO()
    call_command("permits", "load-rules", stdout=out)
    assert "0 new" in out.getvalue()
