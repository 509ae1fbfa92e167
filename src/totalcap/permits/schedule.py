"""Execution reports and reminders: due dates as data, the daily job's work.

Report deadlines come from :class:`~totalcap.permits.models.ReportRule` rows (loaded from
``data/execution_reports.json``, editable in the admin; the file applies while the table is empty).
The daily job (``permits.daily``) expires permits past their term, schedules the reports that fall
due, and raises reminders once per threshold: renewal (from 120 days before expiry; due 60 days
before it), change applications (30 days after the changed fact) and execution reports.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base import services as base_services
from totalcap.base.exceptions import ServiceError
from totalcap.base.transitions import apply_transition
from totalcap.permits import choices as c
from totalcap.permits.models import ExecutionReport, Permit, PermitVersion, Reminder, ReportRule
from totalcap.permits.policy import add_months, data_text, month_length, policy

R = c.ReportStatus


# --- rules -------------------------------------------------------------------------------------


def rules_from_file(text: str | None = None) -> list[ReportRule]:
    """The shipped rules as unsaved rows (validated)."""
    data = json.loads(text if text is not None else data_text("execution_reports.json"))
    rules = []
    for i, row in enumerate(data["rules"], start=1):
        rule = ReportRule(
            industry_prefix=str(row.get("industry", "")),
            management_class=row["management_class"],
            kind=row["kind"],
            periods=",".join(str(p) for p in row.get("periods", [])),
            months_after=int(row.get("months_after", 1)),
            due_day=int(row.get("day", 15)),
            min_days_held=int(row.get("min_days_held", 0)),
            note=str(row.get("note", "")),
        )
        try:
            rule.full_clean(validate_unique=False, validate_constraints=False)
        except Exception as exc:
            raise ServiceError(
                _("执行报告规则第%(n)d条有误：%(e)s") % {"n": i, "e": exc}, code="bad_reference_file"
            ) from exc
        rules.append(rule)
    return rules


def load_report_rules(text: str | None = None) -> int:
    """Load the rules file into the table (idempotent: existing rows are updated); returns new rows."""
    created = 0
    with transaction.atomic():
        for rule in rules_from_file(text):
            _obj, was_created = ReportRule.objects.update_or_create(
                industry_prefix=rule.industry_prefix,
                management_class=rule.management_class,
                kind=rule.kind,
                defaults={
                    "periods": rule.periods,
                    "months_after": rule.months_after,
                    "due_day": rule.due_day,
                    "min_days_held": rule.min_days_held,
                    "note": rule.note,
                },
            )
            created += int(was_created)
    return created


def rules_for(industry_code: str, management_class: str) -> list[ReportRule]:
    """The rules of the most specific industry prefix that has rules for the class."""
    stored = list(ReportRule.objects.filter(management_class=management_class))
    if not ReportRule.objects.exists():
        stored = [r for r in rules_from_file() if r.management_class == management_class]
    matching = [r for r in stored if industry_code.startswith(r.industry_prefix)]
    if not matching:
        return []
    longest = max(len(r.industry_prefix) for r in matching)
    return sorted((r for r in matching if len(r.industry_prefix) == longest), key=lambda r: r.kind)


# --- periods and due dates -------------------------------------------------------------------------


def period_bounds(kind: str, year: int, number: int) -> tuple[dt.date, dt.date]:
    months = c.REPORT_MONTHS[c.ReportKind(kind)]
    start = dt.date(year, (number - 1) * months + 1, 1)
    end = add_months(start, months) - dt.timedelta(days=1)
    return start, end


def due_date(period_end: dt.date, months_after: int, day: int) -> dt.date:
    """``day`` (0 = last day) of the month ``months_after`` months after the period's last month."""
    target = add_months(dt.date(period_end.year, period_end.month, 1), months_after)
    last = month_length(target.year, target.month)
    return dt.date(target.year, target.month, last if day == 0 else min(day, last))


@dataclass(frozen=True)
class DuePeriod:
    kind: str
    start: dt.date
    end: dt.date
    due: dt.date


def due_periods(
    rule: ReportRule, first_day: dt.date, horizon: dt.date, last_day: dt.date | None
) -> list[DuePeriod]:
    """Periods of ``rule`` ending between the permit's first day and ``horizon`` that need a report."""
    per_year = 12 // c.REPORT_MONTHS[c.ReportKind(rule.kind)]
    wanted = rule.period_numbers()
    result = []
    for year in range(first_day.year, horizon.year + 1):
        for number in range(1, per_year + 1):
            if wanted is not None and number not in wanted:
                continue
            start, end = period_bounds(rule.kind, year, number)
            if end < first_day or end > horizon or (last_day is not None and start > last_day):
                continue
            held = (end - max(start, first_day)).days + 1
            if held < rule.min_days_held:
                continue  # folded into the next report
            result.append(DuePeriod(rule.kind, start, end, due_date(end, rule.months_after, rule.due_day)))
    return result


def schedule_reports(permit: Permit, today: dt.date) -> int:
    """Create the execution reports of ``permit`` that fall due up to today + the look-ahead."""
    if permit.status not in c.IN_FORCE or permit.first_issued_on is None:
        return 0
    horizon = today + dt.timedelta(days=policy().report_lookahead_days)
    rules = rules_for(permit.enterprise.industry.code, permit.management_class)
    created = 0
    for rule in rules:
        for period in due_periods(rule, permit.first_issued_on, horizon, permit.valid_until):
            report, was_created = ExecutionReport.objects.get_or_create(
                permit=permit,
                kind=period.kind,
                period_start=period.start,
                defaults={
                    "period_end": period.end,
                    "due_date": period.due,
                    "version": permit.current_version,
                },
            )
            if was_created:
                created += 1
                events.record(None, report, "scheduled", {"due": period.due})
    return created


# --- execution reports ------------------------------------------------------------------------


def save_report(
    actor: Any, report: ExecutionReport, *, write: Callable[[ExecutionReport], ExecutionReport] | None = None
) -> ExecutionReport:
    """Change a report's contents while the enterprise may still submit it."""
    with transaction.atomic():
        locked = ExecutionReport.objects.select_for_update(no_key=True).get(pk=report.pk)
        if locked.status not in (R.PENDING, R.RETURNED):
            raise ServiceError(
                _("执行报告状态为「%(s)s」，不能修改。") % {"s": locked.get_status_display()},
                code="report_locked",
            )
        return base_services.save_object(actor, report, write=write)


def transition_report(
    actor: Any, report: ExecutionReport, action: str, params: dict[str, Any] | None = None
) -> ExecutionReport:
    from totalcap.permits.services import _apply
    from totalcap.permits.transitions import REPORT_TABLE

    result: ExecutionReport = _apply(REPORT_TABLE, "report", actor, report, action, params)
    return result


# --- reminders and the daily run --------------------------------------------------------------------


def remind(permit: Permit, kind: str, key: str, message: str, due: dt.date | None) -> bool:
    """Raise a reminder once per (permit, key); True when it is new."""
    reminder, created = Reminder.objects.get_or_create(
        permit=permit, key=key[:64], defaults={"kind": kind, "message": message[:255], "due_date": due}
    )
    if created:
        events.record(
            None, permit, "reminder", {"kind": kind, "message": message, "due": due, "id": reminder.pk}
        )
    return created


def _threshold(days_left: int, thresholds: Iterable[int]) -> int | None:
    """The smallest threshold already reached (days_left ≤ t), if any."""
    reached = [t for t in thresholds if days_left <= t]
    return min(reached) if reached else None


def _renewal_in_progress(permit: Permit) -> bool:
    return permit.versions.filter(
        kind=c.VersionKind.RENEWAL,
        status__in=[
            c.VersionStatus.SUBMITTED,
            c.VersionStatus.ACCEPTED,
            c.VersionStatus.UNDER_REVIEW,
            c.VersionStatus.APPROVED,
        ],
    ).exists()


def renewal_reminders(permit: Permit, today: dt.date) -> int:
    if permit.status not in c.IN_FORCE or permit.valid_until is None or _renewal_in_progress(permit):
        return 0
    days_left = (permit.valid_until - today).days
    due = permit.valid_until - dt.timedelta(days=policy().renewal_lead_days)
    count = 0
    if today > due:
        count += remind(
            permit,
            c.ReminderKind.RENEWAL_OVERDUE,
            f"renewal_overdue:{permit.valid_until}",
            _("许可证%(n)s将于%(e)s到期，延续申请期限（%(d)s）已过，请尽快申请延续。")
            % {"n": permit.number, "e": permit.valid_until, "d": due},
            due,
        )
    t = _threshold(days_left, policy().renewal_reminder_days)
    if t is not None:
        count += remind(
            permit,
            c.ReminderKind.RENEWAL,
            f"renewal:{permit.valid_until}:{t}",
            _("许可证%(n)s将于%(e)s到期（剩余%(k)d天），请于%(d)s前提交延续申请。")
            % {"n": permit.number, "e": permit.valid_until, "k": days_left, "d": due},
            due,
        )
    return count


def change_reminders(version: PermitVersion, today: dt.date) -> int:
    if version.application_due is None or version.status not in c.APPLICANT_EDITABLE:
        return 0
    permit = version.permit
    days_left = (version.application_due - today).days
    if days_left < 0:
        return int(
            remind(
                permit,
                c.ReminderKind.CHANGE_OVERDUE,
                f"change_overdue:{version.pk}",
                _("第%(v)d版变更申请已超过期限（%(d)s，变更事项发生后30日内），请尽快提交。")
                % {"v": version.number, "d": version.application_due},
                version.application_due,
            )
        )
    t = _threshold(days_left, policy().change_reminder_days)
    if t is None:
        return 0
    return int(
        remind(
            permit,
            c.ReminderKind.CHANGE_DUE,
            f"change:{version.pk}:{t}",
            _("第%(v)d版变更申请须于%(d)s前提交（剩余%(k)d天）。")
            % {"v": version.number, "d": version.application_due, "k": days_left},
            version.application_due,
        )
    )


def report_reminders(report: ExecutionReport, today: dt.date) -> int:
    if report.status not in (R.PENDING, R.RETURNED):
        return 0
    days_left = (report.due_date - today).days
    label = f"{report.get_kind_display()}（{report.period_start}至{report.period_end}）"
    if days_left < 0:
        return int(
            remind(
                report.permit,
                c.ReminderKind.REPORT_OVERDUE,
                f"report_overdue:{report.pk}",
                _("%(r)s已逾期（期限%(d)s），请尽快提交。") % {"r": label, "d": report.due_date},
                report.due_date,
            )
        )
    t = _threshold(days_left, policy().report_reminder_days)
    if t is None:
        return 0
    return int(
        remind(
            report.permit,
            c.ReminderKind.REPORT_DUE,
            f"report:{report.pk}:{t}",
            _("%(r)s须于%(d)s前提交（剩余%(k)d天）。") % {"r": label, "d": report.due_date, "k": days_left},
            report.due_date,
        )
    )


def resolve_reminders(now: dt.datetime) -> int:
    """Close reminders whose cause has gone (report submitted, renewal applied for, change submitted)."""
    resolved = 0
    for reminder in Reminder.objects.filter(resolved_at__isnull=True).select_related("permit"):
        done = False
        kind = reminder.kind
        if kind in (c.ReminderKind.REPORT_DUE, c.ReminderKind.REPORT_OVERDUE):
            report_id = int(reminder.key.split(":")[1])
            done = not ExecutionReport.objects.filter(
                pk=report_id, status__in=[R.PENDING, R.RETURNED]
            ).exists()
        elif kind in (c.ReminderKind.RENEWAL, c.ReminderKind.RENEWAL_OVERDUE):
            permit = reminder.permit
            done = (
                permit.status not in c.IN_FORCE
                or _renewal_in_progress(permit)
                or (permit.valid_until is not None and str(permit.valid_until) not in reminder.key)
            )
        elif kind in (c.ReminderKind.CHANGE_DUE, c.ReminderKind.CHANGE_OVERDUE):
            version_id = int(reminder.key.split(":")[1])
            done = not PermitVersion.objects.filter(pk=version_id, status__in=c.APPLICANT_EDITABLE).exists()
        if done:
            reminder.resolved_at = now
            reminder.save(update_fields=["resolved_at", "updated_at"])
            resolved += 1
    return resolved


@dataclass
class DailyResult:
    expired: int = 0
    reports: int = 0
    reminders: int = 0
    resolved: int = 0


def run_daily(today: dt.date | None = None) -> DailyResult:
    """The daily job: expire, schedule reports, raise and resolve reminders (idempotent)."""
    from totalcap.permits.transitions import PERMIT_TABLE

    today = today or timezone.localdate()
    result = DailyResult()
    for permit in Permit.objects.filter(status__in=c.IN_FORCE, valid_until__lt=today):
        with transaction.atomic():
            apply_transition(
                PERMIT_TABLE, permit, "expire", None, payload={"valid_until": permit.valid_until}
            )
            remind(
                permit,
                c.ReminderKind.EXPIRED,
                f"expired:{permit.valid_until}",
                _("许可证%(n)s已于%(e)s到期失效；继续排污须重新申请。")
                % {"n": permit.number, "e": permit.valid_until},
                permit.valid_until,
            )
        result.expired += 1
        result.reminders += 1
    in_force = Permit.objects.filter(status__in=c.IN_FORCE).select_related("enterprise__industry")
    for permit in in_force:
        with transaction.atomic():
            result.reports += schedule_reports(permit, today)
            result.reminders += renewal_reminders(permit, today)
    for version in PermitVersion.objects.filter(
        kind=c.VersionKind.CHANGE, status__in=c.APPLICANT_EDITABLE, application_due__isnull=False
    ).select_related("permit"):
        with transaction.atomic():
            result.reminders += change_reminders(version, today)
    for report in ExecutionReport.objects.filter(status__in=[R.PENDING, R.RETURNED]).select_related("permit"):
        with transaction.atomic():
            result.reminders += report_reminders(report, today)
    with transaction.atomic():
        result.resolved = resolve_reminders(timezone.now())
    return result


def open_reminders(permit: Permit) -> list[Reminder]:
    return list(permit.reminders.filter(resolved_at__isnull=True).order_by("due_date", "-created_at"))
