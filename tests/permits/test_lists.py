"""List filters shared by the UI and the API: expiring, needing attention, overdue, open applications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.permits.conftest import user
from totalcap.permits import schedule, services
from totalcap.permits.models import ExecutionReport, Permit


def ids(api: Any, url: str) -> set[int]:
    return {row["id"] for row in api.get(url).json()["results"]}


def test_permit_filters(
    world: Any, issued: Permit, issued_other: Permit, api_for: Any, client_for: Any
) -> None:
    today = timezone.localdate()
    Permit.objects.filter(pk=issued.pk).update(valid_until=today + dt.timedelta(days=90))
    api = api_for("city")
    assert ids(api, "/api/permits/permit/?expiring_days=120") == {issued.pk}
    assert ids(api, "/api/permits/permit/?expiring_days=3000") == {issued.pk, issued_other.pk}
    assert ids(api, "/api/permits/permit/?attention=true") == set()
    schedule.run_daily(today)
    assert ids(api, "/api/permits/permit/?attention=true") == {issued.pk}
    assert ids(api, "/api/permits/permit/?attention=false") == {issued_other.pk}
    assert ids(api, f"/api/permits/permit/?within={world.e_other.jurisdiction_id}") == {issued_other.pk}
    assert ids(api, f"/api/permits/permit/?q={issued.number}") == {issued.pk}
    page = client_for("city").get("/permits/permit/?attention=true").content.decode()
    assert (
        issued.number in page and issued_other.number not in page and 'data-testid="reminder-badge"' in page
    )
    reminders = client_for("ent").get("/permits/reminder/?unresolved=true").content.decode()
    assert "延续申请" in reminders


def test_report_and_version_filters(world: Any, issued: Permit, api_for: Any) -> None:
    report = ExecutionReport.objects.create(
        permit=issued, kind="annual", period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31),
        due_date=dt.date(2026, 1, 15),
    )  # fmt: skip
    api = api_for("county")
    assert ids(api, "/api/permits/report/?overdue=true") == {report.pk}
    assert ids(api, "/api/permits/report/?overdue=false") == set()
    draft = services.start_renewal(user("ent"), issued)
    assert ids(api, "/api/permits/version/?open=true") == {draft.pk}
    assert ids(api, "/api/permits/version/?kind=renewal") == {draft.pk}
