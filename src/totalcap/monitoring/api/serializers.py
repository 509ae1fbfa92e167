"""Serializers of the monitoring API (read-only for computed data; writes go through services)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from totalcap.base.api import ScopedModelSerializer
from totalcap.monitoring.choices import ReviewKind, ReviewLevel, RuleKind, RuleMedium
from totalcap.monitoring.models import (
    AccountingPlan,
    DayValue,
    DeviceState,
    EmissionHour,
    EmissionHourLog,
    EmissionTotal,
    EmissionTotalRevision,
    HourValue,
    ManualMeasurement,
    MonthValue,
    OutletMonitoringConfig,
    ReviewAction,
    ReviewEvidence,
    RuleSet,
    Sample,
    Substitution,
    Suspicion,
)
from totalcap.registry.models import Outlet


def read_only(model: type, fields: list[str]) -> type[serializers.ModelSerializer]:
    """A read-only model serializer of ``fields``."""
    meta = type("Meta", (), {"model": model, "fields": fields, "read_only_fields": fields})
    return type(f"{model.__name__}Serializer", (serializers.ModelSerializer,), {"Meta": meta})


SampleSerializer = read_only(
    Sample,
    ["logger", "outlet", "kind", "pollutant", "data_time", "value", "min", "max", "cou", "zs_value", "zs_min", "zs_max",
     "flag", "eflag", "sample_time", "extra", "frame_id", "received_at"],
)  # fmt: skip
HourValueSerializer = read_only(
    HourValue,
    ["outlet", "pollutant", "data_time", "logger_id", "source", "n_records", "n_valid", "valid_minutes",
     "stopped_minutes", "process_minutes", "n_negative", "flag_counts", "status", "label", "agg_flag", "value", "min",
     "max", "raw_mean", "weighting", "volume_m3", "amount_kg", "moisture", "o2", "o2_ref", "zs_factor", "zs_value",
     "zs_status", "limit_value", "over_limit", "logger_value", "logger_min", "logger_max", "logger_cou", "logger_flag",
     "logger_frame_id", "mismatch", "mismatch_detail", "review_id", "rules_id", "computed_at"],
)  # fmt: skip
EmissionHourSerializer = read_only(
    EmissionHour,
    ["outlet", "pollutant", "data_time", "version", "kg", "method", "hour_status", "concentration", "volume_m3",
     "capture_rate", "substitution_id", "manual_id", "log_id", "accounted_at"],
)  # fmt: skip
DeviceStateSerializer = read_only(
    DeviceState,
    [
        "id",
        "logger",
        "outlet",
        "pollutant",
        "code",
        "value",
        "observed_at",
        "source",
        "frame_id",
        "received_at",
    ],
)
DayValueSerializer = read_only(
    DayValue,
    ["id", "outlet", "pollutant", "day", "hours_expected", "hours_received", "hours_valid", "hours_stopped",
     "hours_process", "hours_invalid", "hours_missing", "status", "agg_flag", "value", "min", "max", "zs_value",
     "volume_m3", "amount_kg", "over_limit", "logger_value", "logger_cou", "logger_flag", "mismatch", "computed_at"],
)  # fmt: skip
MonthValueSerializer = read_only(
    MonthValue,
    ["id", "outlet", "pollutant", "month", "days_expected", "days_valid", "days_stopped", "hours_valid",
     "hours_received", "hours_expected", "status", "value", "zs_value", "volume_m3", "amount_kg", "computed_at"],
)  # fmt: skip
EmissionHourLogSerializer = read_only(
    EmissionHourLog,
    ["id", "outlet", "pollutant", "data_time", "version", "kg", "delta_kg", "method", "hour_status", "previous",
     "diff", "cause", "created_at"],
)  # fmt: skip
EmissionTotalRevisionSerializer = read_only(
    EmissionTotalRevision,
    ["id", "total", "outlet", "version", "kg", "snapshot", "diff", "cause", "created_at"],
)
SubstitutionSerializer = read_only(
    Substitution,
    ["id", "outlet", "pollutant", "data_time", "ruleset", "rule_code", "situation", "inputs", "original", "kg",
     "concentration", "volume_m3", "created_at"],
)  # fmt: skip


class EmissionTotalSerializer(serializers.ModelSerializer):
    kg_by_method = serializers.SerializerMethodField()

    class Meta:
        model = EmissionTotal
        fields = [
            "id", "outlet", "pollutant", "period", "period_start", "version", "kg", "method", "kg_by_method",
            "kg_auto_valid", "kg_auto_substituted", "kg_manual", "kg_material_balance", "kg_emission_factor",
            "kg_penalised", "hours_expected", "hours_auto_valid", "hours_auto_substituted", "hours_manual",
            "hours_material_balance", "hours_emission_factor", "hours_penalised", "hours_stopped",
            "hours_unaccounted", "status_valid", "status_stopped", "status_process", "status_invalid",
            "status_missing", "capture_rate", "computed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_kg_by_method(self, obj: EmissionTotal) -> dict[str, str]:
        return {k: str(v) for k, v in obj.kg_by_method.items()}


class ReviewEvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewEvidence
        fields = ["id", "review", "original_name", "sha256", "size", "file", "uploaded_by", "created_at"]
        read_only_fields = fields


class ReviewActionSerializer(serializers.ModelSerializer):
    evidence = ReviewEvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = ReviewAction
        fields = [
            "id", "outlet", "pollutant", "level", "kind", "start", "end", "value", "reason", "status", "created_by",
            "by_enterprise", "reverted_by", "reverted_at", "revert_reason", "created_at", "evidence",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewCreateSerializer(serializers.Serializer):
    """Input of a review (multipart when evidence files are attached)."""

    outlet = serializers.PrimaryKeyRelatedField(queryset=Outlet.objects.all())
    pollutant = serializers.CharField(max_length=16, required=False, allow_blank=True, allow_null=True)
    level = serializers.ChoiceField(choices=ReviewLevel.choices, default=ReviewLevel.HOUR)
    kind = serializers.ChoiceField(choices=ReviewKind.choices)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    value = serializers.DecimalField(max_digits=20, decimal_places=6, required=False, allow_null=True)
    reason = serializers.CharField()
    evidence = serializers.ListField(child=serializers.FileField(), required=False)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        related: Any = fields["outlet"]
        related.queryset = Outlet.objects.restrict(getattr(request, "user", None), None)
        return fields


class RevertSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ManualMeasurementSerializer(ScopedModelSerializer):
    class Meta:
        model = ManualMeasurement
        fields = [
            "id", "outlet", "pollutant", "kind", "sampled_at", "period_start", "period_end", "concentration", "unit",
            "flow_m3_h", "lab", "report_no", "note", "source", "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "source", "created_by", "created_at"]


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField()


class SuspicionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suspicion
        fields = [
            "id", "detector", "outlet", "pollutant", "start", "end", "evidence", "params", "ruleset", "status",
            "handled_by", "handled_at", "handling_note", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class RuleSetSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleSet
        fields = ["id", "kind", "code", "version", "name", "medium", "params", "is_default", "source", "note",
                  "created_by", "created_at"]  # fmt: skip
        read_only_fields = fields


class PublishSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    code = serializers.SlugField(max_length=48)
    name = serializers.CharField(max_length=128)
    medium = serializers.ChoiceField(choices=RuleMedium.choices)
    params = serializers.JSONField()
    is_default = serializers.BooleanField(default=False)
    source = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")  # type: ignore[assignment]
    note = serializers.CharField(required=False, allow_blank=True, default="")


class OutletMonitoringConfigSerializer(ScopedModelSerializer):
    class Meta:
        model = OutletMonitoringConfig
        fields = [
            "id", "outlet", "validity_rules", "substitution_rules", "screening_rules", "minute_interval",
            "concentration_basis", "flow_basis", "reference_o2", "atmospheric_kpa", "measuring_ranges",
            "ppm_pollutants", "note",
        ]  # fmt: skip


class AccountingPlanSerializer(ScopedModelSerializer):
    class Meta:
        model = AccountingPlan
        fields = [
            "id", "outlet", "pollutant", "automatic_required", "manual_validity_days", "material_balance_kg_h",
            "emission_factor_kg_h", "untreated_kg_h", "manual_before_substitution", "take_larger", "note",
        ]  # fmt: skip


class RangeSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["结束时间应晚于起始时间。"]})
        if (attrs["end"] - attrs["start"]).days > 93:
            raise serializers.ValidationError({"end": ["一次最多重新核算93天。"]})
        return attrs
