"""Registry API serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from totalcap.base.api import ScopedModelSerializer
from totalcap.registry.models import (
    Camera,
    DataLogger,
    EmissionStandard,
    Enterprise,
    EnterpriseContact,
    Industry,
    Jurisdiction,
    Outlet,
    Pollutant,
    StandardLimit,
    Valve,
)


class JurisdictionSerializer(ScopedModelSerializer):
    class Meta:
        model = Jurisdiction
        fields = ["id", "code", "name", "level", "parent", "path"]
        read_only_fields = ["path"]


class IndustrySerializer(ScopedModelSerializer):
    class Meta:
        model = Industry
        fields = ["id", "code", "name", "parent"]


class PollutantSerializer(ScopedModelSerializer):
    class Meta:
        model = Pollutant
        fields = [
            "id", "code", "name", "medium", "concentration_unit", "amount_unit", "data_type", "legacy_code",
            "is_total_control", "is_flow",
        ]  # fmt: skip


class StandardLimitSerializer(serializers.ModelSerializer):
    pollutant = serializers.SlugRelatedField(slug_field="code", queryset=Pollutant.objects.all())

    class Meta:
        model = StandardLimit
        fields = [
            "id",
            "pollutant",
            "limit_value",
            "unit",
            "discharge_mode",
            "source_type",
            "reference_o2",
            "averaging",
            "note",
        ]


class EmissionStandardSerializer(ScopedModelSerializer):
    """A standard with its limits; creating or replacing one requires at least one limit."""

    limits = StandardLimitSerializer(many=True)

    class Meta:
        model = EmissionStandard
        fields = [
            "id",
            "code",
            "name",
            "level",
            "medium",
            "region",
            "industries",
            "effective_date",
            "note",
            "limits",
        ]

    def validate_limits(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise serializers.ValidationError("排放标准至少需要一条限值。")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        limits = attrs.pop("limits", None)
        attrs = super().validate(attrs)
        if limits is not None:
            attrs["limits"] = limits
        return attrs

    def _write_limits(self, standard: EmissionStandard, limits: list[dict[str, Any]]) -> None:
        standard.limits.all().delete()
        for row in limits:
            limit = StandardLimit(standard=standard, **row)
            limit.full_clean()
            limit.save()

    def create(self, validated_data: dict[str, Any]) -> EmissionStandard:
        limits = validated_data.pop("limits")
        standard: EmissionStandard = super().create(validated_data)
        self._write_limits(standard, limits)
        return standard

    def update(self, instance: EmissionStandard, validated_data: dict[str, Any]) -> EmissionStandard:
        limits = validated_data.pop("limits", None)
        standard: EmissionStandard = super().update(instance, validated_data)
        if limits is not None:
            self._write_limits(standard, limits)
        return standard


class EnterpriseSerializer(ScopedModelSerializer):
    class Meta:
        model = Enterprise
        fields = [
            "id", "credit_code", "name", "short_name", "address", "longitude", "latitude", "industry",
            "jurisdiction", "management_class", "legal_representative", "status", "created_at", "updated_at",
        ]  # fmt: skip


class EnterpriseContactSerializer(ScopedModelSerializer):
    class Meta:
        model = EnterpriseContact
        fields = ["id", "enterprise", "name", "title", "phone", "email", "is_primary", "receives_alarms"]


class OutletSerializer(ScopedModelSerializer):
    class Meta:
        model = Outlet
        fields = [
            "id", "enterprise", "code", "name", "medium", "category", "discharge_mode", "destination",
            "source_type", "longitude", "latitude", "standards", "status",
        ]  # fmt: skip


class DataLoggerSerializer(ScopedModelSerializer):
    password = serializers.CharField(write_only=True, required=False, max_length=64)

    class Meta:
        model = DataLogger
        fields = [
            "id", "mn", "name", "outlet", "password", "protocol_version", "crc_mode", "system_code", "pollutants",
            "is_total_control", "init_on_connect", "overtime_seconds", "recount", "ack_when_flag_absent",
            "manufacturer", "model_name", "status",
        ]  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": ["请填写访问密码。"]})
        return super().validate(attrs)


class ValveSerializer(ScopedModelSerializer):
    class Meta:
        model = Valve
        fields = ["id", "outlet", "logger", "code", "name", "state", "state_reported_at", "state_received_at"]
        read_only_fields = ["state", "state_reported_at", "state_received_at"]


class CameraSerializer(ScopedModelSerializer):
    class Meta:
        model = Camera
        fields = ["id", "enterprise", "outlet", "code", "name", "location", "stream_url"]
