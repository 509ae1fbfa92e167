"""Permit tables for the list pages (exportable to Excel)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from totalcap.base.tables import BaseTable
from totalcap.permits import choices as c
from totalcap.permits.models import (
    ExecutionReport,
    LimitCalculation,
    Permit,
    PermitVersion,
    Reminder,
    ReportRule,
)

STATUS_BADGES = {
    "valid": "success", "pending": "secondary", "suspended": "warning", "expired": "danger", "revoked": "dark",
    "withdrawn": "dark", "cancelled": "dark", "issued": "success", "draft": "secondary", "submitted": "info",
    "accepted": "info", "under_review": "primary", "returned": "warning", "approved": "primary", "rejected": "danger",
    "accepted_report": "success",
}  # fmt: skip


def badge(status: str, label: Any) -> str:
    return format_html(
        '<span class="badge text-bg-{}">{}</span>', STATUS_BADGES.get(status, "secondary"), label
    )


class PermitTable(BaseTable):
    number = tables.Column(linkify=True, verbose_name="许可证编号", default="（未发证）")
    enterprise = tables.Column(verbose_name="排污单位", accessor="enterprise__name")
    status = tables.Column(verbose_name="状态")
    valid_from = tables.DateColumn(verbose_name="有效期自", format="Y-m-d")
    valid_until = tables.DateColumn(verbose_name="有效期至", format="Y-m-d")
    days_left = tables.Column(verbose_name="剩余天数", empty_values=(), orderable=False)
    reminders = tables.Column(verbose_name="提醒", empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        model = Permit
        fields = ("number", "enterprise", "management_class", "status", "valid_from", "valid_until")
        sequence = (
            "number",
            "enterprise",
            "management_class",
            "status",
            "valid_from",
            "valid_until",
            "days_left",
            "reminders",
        )

    def render_number(self, record: Permit, value: Any) -> Any:
        return value

    def render_status(self, record: Permit) -> str:
        return badge(record.status, record.get_status_display())

    def value_status(self, record: Permit) -> str:
        return str(record.get_status_display())

    def render_days_left(self, record: Permit) -> Any:
        if record.valid_until is None or record.status not in c.IN_FORCE:
            return "—"
        days = (record.valid_until - timezone.localdate()).days
        css = "text-danger fw-semibold" if days <= 60 else ("text-warning" if days <= 120 else "")
        return format_html('<span class="{}">{}</span>', css, days)

    def value_days_left(self, record: Permit) -> Any:
        if record.valid_until is None or record.status not in c.IN_FORCE:
            return ""
        return (record.valid_until - timezone.localdate()).days

    def render_reminders(self, record: Permit) -> Any:
        n = getattr(record, "open_reminders", None)
        if n is None:
            n = record.reminders.filter(resolved_at__isnull=True).count()
        if not n:
            return "—"
        return format_html('<span class="badge text-bg-danger" data-testid="reminder-badge">{} 条</span>', n)

    def value_reminders(self, record: Permit) -> Any:
        return getattr(record, "open_reminders", "")


class PermitVersionTable(BaseTable):
    label = tables.Column(linkify=True, verbose_name="版本", accessor="number", empty_values=())
    permit = tables.Column(verbose_name="许可证", accessor="permit")
    status = tables.Column(verbose_name="办理状态")

    class Meta(BaseTable.Meta):
        model = PermitVersion
        fields = ("kind", "management_class", "status", "application_due", "submitted_at", "issued_at")
        sequence = (
            "label",
            "permit",
            "kind",
            "management_class",
            "status",
            "application_due",
            "submitted_at",
            "issued_at",
        )

    def render_label(self, record: PermitVersion) -> str:
        return f"第{record.number}版"

    def render_status(self, record: PermitVersion) -> str:
        return badge(record.status, record.get_status_display())

    def value_status(self, record: PermitVersion) -> str:
        return str(record.get_status_display())


class ExecutionReportTable(BaseTable):
    title = tables.Column(linkify=True, verbose_name="报告", accessor="kind", empty_values=())
    permit = tables.Column(verbose_name="许可证")
    status = tables.Column(verbose_name="状态")

    class Meta(BaseTable.Meta):
        model = ExecutionReport
        fields = ("period_start", "period_end", "due_date", "status", "submitted_at")
        sequence = ("title", "permit", "period_start", "period_end", "due_date", "status", "submitted_at")

    def render_title(self, record: ExecutionReport) -> str:
        return str(record.get_kind_display())

    def render_status(self, record: ExecutionReport) -> str:
        overdue = (
            record.status in (c.ReportStatus.PENDING, c.ReportStatus.RETURNED)
            and record.due_date < timezone.localdate()
        )
        html = badge(
            "accepted_report" if record.status == "accepted" else record.status, record.get_status_display()
        )
        if overdue:
            html += format_html(' <span class="badge text-bg-danger">逾期</span>')
        return html

    def value_status(self, record: ExecutionReport) -> str:
        return str(record.get_status_display())


class ReminderTable(BaseTable):
    message = tables.Column(linkify=True, verbose_name="内容")
    permit = tables.Column(verbose_name="许可证")

    class Meta(BaseTable.Meta):
        model = Reminder
        fields = ("created_at", "kind", "permit", "message", "due_date", "resolved_at")


class LimitCalculationTable(BaseTable):
    id = tables.Column(linkify=True, verbose_name="编号")
    annual = tables.Column(
        verbose_name="年排放量限值(t/a)", accessor="result__annual_limit_t__chosen", orderable=False
    )
    daily = tables.Column(verbose_name="日最大排放量(kg/d)", accessor="result__daily_max_kg", orderable=False)

    class Meta(BaseTable.Meta):
        model = LimitCalculation
        fields = ("id", "created_at", "enterprise", "outlet", "pollutant", "annual", "daily", "created_by")


class ReportRuleTable(BaseTable):
    kind = tables.Column(linkify=False)

    class Meta(BaseTable.Meta):
        model = ReportRule
        fields = (
            "industry_prefix",
            "management_class",
            "kind",
            "periods",
            "months_after",
            "due_day",
            "min_days_held",
            "note",
        )
