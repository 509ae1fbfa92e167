"""Registry filtersets: one per model, shared by the UI lists and the API lists."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from totalcap.base.filtersets import ScopedFilterSet
from totalcap.registry import choices as c
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
    Valve,
)


class JurisdictionFilterSet(ScopedFilterSet):
    search_fields = ("code", "name")

    class Meta:
        model = Jurisdiction
        fields = ["level"]


class IndustryFilterSet(ScopedFilterSet):
    search_fields = ("code", "name")

    class Meta:
        model = Industry
        fields: list[str] = []


class PollutantFilterSet(ScopedFilterSet):
    search_fields = ("code", "name", "legacy_code")

    class Meta:
        model = Pollutant
        fields = ["medium", "is_total_control"]


class EmissionStandardFilterSet(ScopedFilterSet):
    search_fields = ("code", "name")

    class Meta:
        model = EmissionStandard
        fields = ["level", "medium"]


class EnterpriseFilterSet(ScopedFilterSet):
    search_fields = ("name", "short_name", "credit_code", "address")
    within = django_filters.ModelChoiceFilter(
        label="行政区划（含下级）", queryset=Jurisdiction.objects.all(), method="filter_within"
    )

    class Meta:
        model = Enterprise
        fields = ["within", "industry", "management_class", "status"]

    def filter_within(self, queryset: QuerySet[Any], name: str, value: Jurisdiction) -> QuerySet[Any]:
        return queryset.filter(jurisdiction__path__startswith=value.path) if value else queryset


class EnterpriseContactFilterSet(ScopedFilterSet):
    search_fields = ("name", "phone", "enterprise__name")

    class Meta:
        model = EnterpriseContact
        fields = ["enterprise", "receives_alarms"]


class OutletFilterSet(ScopedFilterSet):
    search_fields = ("code", "name", "enterprise__name")

    class Meta:
        model = Outlet
        fields = ["enterprise", "medium", "category", "status"]


class DataLoggerFilterSet(ScopedFilterSet):
    search_fields = ("mn", "name", "outlet__enterprise__name")
    enterprise = django_filters.ModelChoiceFilter(
        label="排污单位", field_name="outlet__enterprise", queryset=Enterprise.objects.all()
    )
    protocol_version = django_filters.ChoiceFilter(label="协议版本", choices=c.ProtocolVersion.choices)

    class Meta:
        model = DataLogger
        fields = ["enterprise", "outlet", "protocol_version", "is_total_control", "status"]


class ValveFilterSet(ScopedFilterSet):
    search_fields = ("code", "name", "outlet__enterprise__name")

    class Meta:
        model = Valve
        fields = ["state", "outlet"]


class CameraFilterSet(ScopedFilterSet):
    search_fields = ("code", "name", "enterprise__name")

    class Meta:
        model = Camera
        fields = ["enterprise", "location"]
