"""Execution reports (due dates as data per industry), reminders and the daily job."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.permits.conftest import permit_in, user
from totalcap.base.exceptions import PermissionRefused, ScopeViolation, ServiceError, TransitionRefused
from totalcap.permits import schedule
from totalcap.permits.models import ExecutionReport, Permit, Reminder, ReportRule

D = dt.date


def set_term(permit: Permit, first: dt.date, until: dt.date) -> Permit:
    Permit.objects.filter(pk=permit.pk).update(first_issued_on=first, valid_from=first, valid_until=until)
    permit.refresh_from_db()
    return permit


# --- rules and due dates ---------------------------------------------------------------------------


def test_rules_are_loaded_after_migrate_and_are_idempotent(db: Any) -> None:
    assert ReportRule.objects.count() == len(schedule.rules_from_file())
    assert schedule.load_report_rules() == 0


def test_the_most_specific_industry_prefix_wins(db: Any) -> None:
    thermal = {r.kind for r in schedule.rules_for("4411", "key")}
    assert thermal == {"annual", "semiannual", "quarterly"}
    cement = {(r.kind, r.due_day) for r in schedule.rules_for("3011", "key")}
    assert ("annual", 0) in cement  # end of January
    paper = {r.kind for r in schedule.rules_for("2221", "key")}
    assert paper == {"annual", "quarterly"}
    assert {r.kind for r in schedule.rules_for("2221", "simplified")} == {"annual"}
    assert schedule.rules_for("2221", "registration") == []


def test_rules_edited_in_the_table_take_effect(db: Any) -> None:
    ReportRule.objects.create(industry_prefix="2221", management_class="key", kind="monthly", due_day=10)
    assert [r.kind for r in schedule.rules_for("2221", "key")] == ["monthly"]


def test_the_file_applies_while_the_table_is_empty(db: Any) -> None:
    ReportRule.objects.all().delete()
    assert {r.kind for r in schedule.rules_for("4412", "key")} == {"annual", "semiannual", "quarterly"}


@pytest.mark.parametrize(
    ("kind", "year", "number", "bounds"),
    [
        ("annual", 2027, 1, (D(2027, 1, 1), D(2027, 12, 31))),
        ("semiannual", 2027, 2, (D(2027, 7, 1), D(2027, 12, 31))),
        ("quarterly", 2028, 1, (D(2028, 1, 1), D(2028, 3, 31))),
        ("monthly", 2028, 2, (D(2028, 2, 1), D(2028, 2, 29))),
    ],
)
def test_period_bounds(kind: str, year: int, number: int, bounds: tuple[dt.date, dt.date]) -> None:
    assert schedule.period_bounds(kind, year, number) == bounds


@pytest.mark.parametrize(
    ("end", "months", "day", "due"),
    [
        (D(2027, 12, 31), 1, 15, D(2028, 1, 15)),  # annual: 15 January
        (D(2027, 12, 31), 1, 0, D(2028, 1, 31)),  # cement: end of January
        (D(2027, 6, 30), 1, 15, D(2027, 7, 15)),  # semiannual: 15 July
        (D(2027, 3, 31), 1, 15, D(2027, 4, 15)),  # quarterly: 15th of the next quarter's first month
        (D(2028, 1, 31), 1, 31, D(2028, 2, 29)),  # clamped to the month's end
    ],
)
def test_due_dates(end: dt.date, months: int, day: int, due: dt.date) -> None:
    assert schedule.due_date(end, months, day) == due


def test_rule_validation(db: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="期次超出范围"):
        ReportRule(management_class="key", kind="quarterly", periods="5").full_clean()
    with pytest.raises(ValidationError, match="逗号分隔"):
        ReportRule(management_class="key", kind="quarterly", periods="一,二").full_clean()


# --- scheduling ------------------------------------------------------------------------------------


def test_schedule_reports_of_a_key_paper_mill(world: Any, issued: Permit) -> None:
    permit = set_term(issued, D(2026, 2, 10), D(2031, 2, 9))
    created = schedule.schedule_reports(permit, D(2027, 2, 1))
    reports = list(ExecutionReport.objects.filter(permit=permit).order_by("due_date"))
    assert created == len(reports)
    got = [(r.kind, r.period_start, r.due_date) for r in reports]
    # Q1 2026 held 50 days (≥ 30) → report; Q4 is covered by the annual report; annual 2026 held > 90 days
    assert got == [
        ("quarterly", D(2026, 1, 1), D(2026, 4, 15)),
        ("quarterly", D(2026, 4, 1), D(2026, 7, 15)),
        ("quarterly", D(2026, 7, 1), D(2026, 10, 15)),
        ("annual", D(2026, 1, 1), D(2027, 1, 15)),
    ]
    assert schedule.schedule_reports(permit, D(2027, 2, 1)) == 0  # idempotent
    assert schedule.schedule_reports(permit, D(2027, 3, 1)) == 1  # Q1 2027 enters the 31-day look-ahead


def test_a_short_holding_folds_into_the_next_report(world: Any, issued: Permit) -> None:
    permit = set_term(issued, D(2026, 3, 15), D(2031, 3, 14))
    schedule.schedule_reports(permit, D(2026, 5, 1))
    assert not ExecutionReport.objects.filter(
        permit=permit, kind="quarterly", period_start=D(2026, 1, 1)
    ).exists()


def test_no_reports_for_pending_or_registration(world: Any) -> None:
    pending = permit_in(world.e_own, "submitted")
    assert schedule.schedule_reports(pending, timezone.localdate()) == 0


# --- report transitions -----------------------------------------------------------------------------


@pytest.fixture
def report(world: Any, issued: Permit) -> ExecutionReport:
    permit = set_term(issued, D(2026, 1, 1), D(2030, 12, 31))
    schedule.schedule_reports(permit, D(2026, 4, 1))
    return ExecutionReport.objects.filter(permit=permit).order_by("period_start").first()


def test_report_life_cycle(report: ExecutionReport) -> None:
    with pytest.raises(TransitionRefused, match="请先填写执行情况说明"):
        schedule.transition_report(user("ent"), report, "submit")
    report.summary = "一季度正常生产，污染防治设施正常运行，自行监测数据全部达标。"
    report.all_compliant = True
    schedule.save_report(user("ent"), report)
    with pytest.raises(ScopeViolation):
        schedule.transition_report(user("ent_other"), report, "submit")
    with pytest.raises(PermissionRefused):
        schedule.transition_report(user("county"), report, "submit")
    report = schedule.transition_report(user("ent"), report, "submit")
    assert report.status == "submitted" and report.submitted_at is not None
    with pytest.raises(ServiceError, match="不能修改"):
        schedule.save_report(user("ent"), report)
    with pytest.raises(PermissionRefused):
        schedule.transition_report(user("ent"), report, "accept")
    with pytest.raises(ServiceError, match="请填写原因"):
        schedule.transition_report(user("county"), report, "return")
    report = schedule.transition_report(user("county"), report, "return", {"reason": "补充超标说明"})
    assert report.status == "returned" and report.opinion == "补充超标说明"
    report = schedule.transition_report(user("ent"), report, "submit")
    report = schedule.transition_report(user("city"), report, "accept")
    assert report.status == "accepted" and report.is_late  # due 2026-04-15, submitted today
    with pytest.raises(TransitionRefused, match="不允许执行操作"):
        schedule.transition_report(user("ent"), report, "submit")


# --- reminders and the daily run -------------------------------------------------------------------


def test_renewal_reminders_once_per_threshold(world: Any, issued: Permit) -> None:
    today = timezone.localdate()
    permit = set_term(issued, today - dt.timedelta(days=1700), today + dt.timedelta(days=100))
    assert schedule.renewal_reminders(permit, today) == 1
    assert schedule.renewal_reminders(permit, today) == 0
    r = Reminder.objects.get(permit=permit)
    assert r.kind == "renewal" and "剩余100天" in r.message and r.key.endswith(":120")
    later = today + dt.timedelta(days=45)  # 55 days left: past the 60-day deadline
    assert schedule.renewal_reminders(permit, later) == 2
    assert set(Reminder.objects.filter(permit=permit).values_list("kind", flat=True)) == {
        "renewal",
        "renewal_overdue",
    }


def test_run_daily_expires_schedules_reminds_and_resolves(
    world: Any, issued: Permit, issued_other: Permit
) -> None:
    today = timezone.localdate()
    set_term(issued, today - dt.timedelta(days=1830), today - dt.timedelta(days=1))
    set_term(issued_other, today - dt.timedelta(days=200), today + dt.timedelta(days=1626))
    result = schedule.run_daily(today)
    issued.refresh_from_db()
    assert issued.status == "expired" and result.expired == 1
    assert Reminder.objects.filter(permit=issued, kind="expired").exists()
    assert result.reports >= 1 and ExecutionReport.objects.filter(permit=issued_other).exists()
    overdue = ExecutionReport.objects.filter(permit=issued_other, due_date__lt=today)
    assert Reminder.objects.filter(permit=issued_other, kind="report_overdue").count() == overdue.count()
    again = schedule.run_daily(today)
    assert (again.expired, again.reports, again.reminders) == (0, 0, 0)
    # submitting a report resolves its reminder
    report = overdue.first()
    assert report is not None
    report.summary, report.all_compliant = "已补报", True
    schedule.save_report(user("ent_other"), report)
    schedule.transition_report(user("ent_other"), report, "submit")
    assert schedule.run_daily(today).resolved == 1
    assert Reminder.objects.get(key=f"report_overdue:{report.pk}").resolved_at is not None


def test_change_reminders(world: Any, issued: Permit) -> None:
    from totalcap.permits import services

    today = timezone.localdate()
    version = services.start_change(
        user("ent"), issued, reason="地址变更", fact_date=today - dt.timedelta(days=28)
    )
    assert schedule.change_reminders(version, today) == 1
    assert Reminder.objects.get(permit=issued).kind == "change_due"
    assert schedule.change_reminders(version, today + dt.timedelta(days=5)) == 1
    assert Reminder.objects.filter(permit=issued, kind="change_overdue").exists()


def test_the_daily_job_is_declared() -> None:
    from procrastinate.contrib.django import app

    from totalcap.permits import jobs

    assert "permits.daily" in app.tasks
    assert any(p.task.name == "permits.daily" for p in app.periodic_registry.periodic_tasks.values())
    assert callable(jobs.daily)
