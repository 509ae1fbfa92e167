"""Admin: report rules are editable reference data; permits and their contents are read-only here
(they change only through the services, and issued versions never change)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from totalcap.permits.models import (
    ExecutionReport,
    LimitCalculation,
    Permit,
    PermitItem,
    PermitVersion,
    Reminder,
    ReportRule,
    SpecialPeriodLimit,
)


@admin.register(ReportRule)
class ReportRuleAdmin(admin.ModelAdmin):
    list_display = (
        "industry_prefix",
        "management_class",
        "kind",
        "periods",
        "months_after",
        "due_day",
        "min_days_held",
        "note",
    )
    list_filter = ("management_class", "kind")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Permit)
class PermitAdmin(ReadOnlyAdmin):
    list_display = ("number", "enterprise", "management_class", "status", "valid_until")
    list_filter = ("status", "management_class")
    search_fields = ("number", "enterprise__name")


@admin.register(PermitVersion)
class PermitVersionAdmin(ReadOnlyAdmin):
    list_display = ("permit", "number", "kind", "status", "issued_at")
    list_filter = ("status", "kind")


@admin.register(PermitItem)
class PermitItemAdmin(ReadOnlyAdmin):
    list_display = ("version", "outlet", "pollutant", "concentration_limit", "annual_t", "daily_max_kg")


@admin.register(SpecialPeriodLimit)
class SpecialPeriodLimitAdmin(ReadOnlyAdmin):
    list_display = ("version", "kind", "outlet", "pollutant")


@admin.register(ExecutionReport)
class ExecutionReportAdmin(ReadOnlyAdmin):
    list_display = ("permit", "kind", "period_start", "due_date", "status")
    list_filter = ("status", "kind")


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("permit", "kind", "due_date", "message", "resolved_at")


@admin.register(LimitCalculation)
class LimitCalculationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "enterprise", "outlet", "pollutant", "created_by", "created_at")
