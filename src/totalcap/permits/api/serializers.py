"""Permits API serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from totalcap.base.api import ScopedModelSerializer
from totalcap.permits import services
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
from totalcap.permits.transitions import PERMIT_TABLE, REPORT_TABLE, VERSION_TABLE
from totalcap.registry.models import Enterprise


def _actions(table: Any, obj: Any, context: Any) -> list[dict[str, str]]:
    request = context.get("request")
    if request is None:
        return []
    return [{"action": t.action, "label": t.label} for t in table.available(obj, request.user)]


class PermitItemSerializer(ScopedModelSerializer):
    """One outlet × pollutant; the computed figures are read-only (the service fills them)."""

    outlet_code = serializers.CharField(source="outlet.code", read_only=True)
    pollutant_code = serializers.CharField(source="pollutant.code", read_only=True)

    class Meta:
        model = PermitItem
        fields = [
            "id", "version", "outlet", "outlet_code", "pollutant", "pollutant_code",
            "concentration_limit", "concentration_unit", "standard_limit", "standard_name", "reference_o2",
            "committed_limit", "rate_limit_kg_per_h", "annual_volume_m3", "design_flow_m3_per_h", "operating_hours",
            "benchmark_m3_per_unit", "annual_output", "standard_method_t", "eia_t", "total_control_t", "technology_t",
            "annual_t", "annual_method", "beta", "daily_max_kg", "monitoring_mode", "monitoring_frequency",
            "calculation", "note",
        ]  # fmt: skip
        read_only_fields = ["standard_method_t", "annual_t", "annual_method", "calculation"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "version" in attrs
            and attrs["version"].pk != self.instance.version_id
        ):
            raise serializers.ValidationError({"version": ["许可排放限值不能移到其他版本。"]})
        return super().validate(attrs)


class SpecialPeriodLimitSerializer(ScopedModelSerializer):
    class Meta:
        model = SpecialPeriodLimit
        fields = [
            "id", "version", "outlet", "pollutant", "kind", "label", "alert_level", "hydro_period", "start_md",
            "end_md", "concentration_limit", "daily_kg", "monthly_t", "note",
        ]  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "version" in attrs
            and attrs["version"].pk != self.instance.version_id
        ):
            raise serializers.ValidationError({"version": ["特殊时段限值不能移到其他版本。"]})
        return super().validate(attrs)


class TotalSerializer(serializers.Serializer):
    pollutant = serializers.CharField(source="pollutant.code")
    main_t = serializers.DecimalField(max_digits=18, decimal_places=4)
    general_t = serializers.DecimalField(max_digits=18, decimal_places=4)
    total_t = serializers.DecimalField(max_digits=18, decimal_places=4)
    daily_max_kg = serializers.DecimalField(max_digits=18, decimal_places=2)
    allocation_t = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    over_allocation = serializers.BooleanField()


class PermitVersionSerializer(ScopedModelSerializer):
    items = PermitItemSerializer(many=True, read_only=True)
    special_limits = SpecialPeriodLimitSerializer(many=True, read_only=True)
    plant_totals = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField()

    class Meta:
        model = PermitVersion
        fields = [
            "id", "permit", "number", "kind", "status", "management_class", "reason", "fact_date", "application_due",
            "based_on", "applicant", "submitted_at", "accepted_at", "approved_at", "issued_at", "valid_from",
            "valid_until", "opinion", "items", "special_limits", "plant_totals", "available_actions", "problems",
        ]  # fmt: skip
        read_only_fields = fields

    def get_plant_totals(self, obj: PermitVersion) -> list[dict[str, Any]]:
        return list(TotalSerializer(services.plant_totals(obj), many=True).data)

    def get_available_actions(self, obj: PermitVersion) -> list[dict[str, str]]:
        return _actions(VERSION_TABLE, obj, self.context)

    def get_problems(self, obj: PermitVersion) -> list[str]:
        return services.contents_problems(obj)


class PermitSerializer(ScopedModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    open_version = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()
    open_reminders = serializers.SerializerMethodField()

    class Meta:
        model = Permit
        fields = [
            "id", "enterprise", "enterprise_name", "number", "management_class", "status", "current_version",
            "first_issued_on", "valid_from", "valid_until", "issuing_authority", "status_reason", "open_version",
            "available_actions", "open_reminders", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_open_version(self, obj: Permit) -> int | None:
        version = obj.open_version
        return version.pk if version else None

    def get_available_actions(self, obj: Permit) -> list[dict[str, str]]:
        return _actions(PERMIT_TABLE, obj, self.context)

    def get_open_reminders(self, obj: Permit) -> list[dict[str, Any]]:
        return [
            {"kind": r.kind, "message": r.message, "due_date": r.due_date}
            for r in obj.reminders.filter(resolved_at__isnull=True)
        ]


class ApplicationSerializer(serializers.Serializer):
    """Open an application: ``{"enterprise": id, "management_class": "key", "reason": "…"}``."""

    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.none())
    management_class = serializers.ChoiceField(
        choices=["key", "simplified", "registration"], required=False, allow_blank=True
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        field: Any = self.fields["enterprise"]
        field.queryset = Enterprise.objects.restrict(getattr(request, "user", None), None)


class TransitionSerializer(serializers.Serializer):
    action = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ChangeSerializer(serializers.Serializer):
    reason = serializers.CharField()
    fact_date = serializers.DateField()
    management_class = serializers.ChoiceField(
        choices=["key", "simplified", "registration"], required=False, allow_blank=True
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ExecutionReportSerializer(ScopedModelSerializer):
    available_actions = serializers.SerializerMethodField()
    is_late = serializers.BooleanField(read_only=True)

    class Meta:
        model = ExecutionReport
        fields = [
            "id", "permit", "version", "kind", "period_start", "period_end", "due_date", "status", "summary",
            "all_compliant", "submitted_at", "reviewed_at", "opinion", "is_late", "available_actions",
        ]  # fmt: skip
        read_only_fields = [
            "permit", "version", "kind", "period_start", "period_end", "due_date", "status", "submitted_at",
            "reviewed_at", "opinion",
        ]  # fmt: skip

    def get_available_actions(self, obj: ExecutionReport) -> list[dict[str, str]]:
        return _actions(REPORT_TABLE, obj, self.context)


class ReminderSerializer(ScopedModelSerializer):
    class Meta:
        model = Reminder
        fields = ["id", "permit", "kind", "due_date", "message", "created_at", "resolved_at"]
        read_only_fields = fields


class LimitCalculationSerializer(ScopedModelSerializer):
    class Meta:
        model = LimitCalculation
        fields = ["id", "enterprise", "outlet", "pollutant", "inputs", "result", "created_by", "created_at"]
        read_only_fields = fields


class ReportRuleSerializer(ScopedModelSerializer):
    class Meta:
        model = ReportRule
        fields = [
            "id", "industry_prefix", "management_class", "kind", "periods", "months_after", "due_day",
            "min_days_held", "note",
        ]  # fmt: skip
        read_only_fields = fields


class CaseSerializer(serializers.Serializer):
    """The calculator input: the keys of ``totalcap limits compute`` (validated by the calculator)."""

    case = serializers.JSONField(help_text="计算器输入（与命令行 JSON 相同的键）")


class ApplyCaseSerializer(CaseSerializer):
    version = serializers.IntegerField()
    outlet = serializers.IntegerField()
    pollutant = serializers.CharField(help_text="污染物编码（如 w01018）或ID")
