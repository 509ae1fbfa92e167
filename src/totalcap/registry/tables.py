"""Registry tables for the list pages."""

from __future__ import annotations

import django_tables2 as tables

from totalcap.base.tables import BaseTable
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


def link(field: str, *, accessor: str | None = None, verbose_name: str | None = None) -> tables.Column:
    return tables.Column(linkify=True, accessor=accessor or field, verbose_name=verbose_name)


class JurisdictionTable(BaseTable):
    name = link("name")

    class Meta(BaseTable.Meta):
        model = Jurisdiction
        fields = ("code", "name", "level", "parent")


class IndustryTable(BaseTable):
    name = link("name")

    class Meta(BaseTable.Meta):
        model = Industry
        fields = ("code", "name", "parent")


class PollutantTable(BaseTable):
    name = link("name")

    class Meta(BaseTable.Meta):
        model = Pollutant
        fields = (
            "code",
            "name",
            "medium",
            "concentration_unit",
            "amount_unit",
            "legacy_code",
            "is_total_control",
        )


class EmissionStandardTable(BaseTable):
    code = link("code")

    class Meta(BaseTable.Meta):
        model = EmissionStandard
        fields = ("code", "name", "level", "medium", "region")


class EnterpriseTable(BaseTable):
    name = link("name")

    class Meta(BaseTable.Meta):
        model = Enterprise
        fields = ("name", "credit_code", "jurisdiction", "industry", "management_class", "status")


class EnterpriseContactTable(BaseTable):
    name = link("name")

    class Meta(BaseTable.Meta):
        model = EnterpriseContact
        fields = ("name", "enterprise", "title", "phone", "is_primary", "receives_alarms")


class OutletTable(BaseTable):
    code = link("code")

    class Meta(BaseTable.Meta):
        model = Outlet
        fields = ("code", "name", "enterprise", "medium", "category", "discharge_mode", "status")


class DataLoggerTable(BaseTable):
    mn = link("mn")
    enterprise = tables.Column(accessor="outlet__enterprise", verbose_name="排污单位")

    class Meta(BaseTable.Meta):
        model = DataLogger
        fields = ("mn", "name", "enterprise", "outlet", "protocol_version", "is_total_control", "status")


class ValveTable(BaseTable):
    code = link("code")

    class Meta(BaseTable.Meta):
        model = Valve
        fields = ("code", "name", "outlet", "logger", "state", "state_reported_at", "state_received_at")


class CameraTable(BaseTable):
    name = link("name")

    class Meta(BaseTable.Meta):
        model = Camera
        fields = ("code", "name", "enterprise", "outlet", "location")
