"""The registry's pages and endpoints, declared once per model."""

from __future__ import annotations

from totalcap.base.resources import Resource
from totalcap.registry import filtersets as f
from totalcap.registry import forms, views
from totalcap.registry import tables as t
from totalcap.registry.api import serializers as s
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

RESOURCES = [
    Resource(
        Jurisdiction, t.JurisdictionTable, f.JurisdictionFilterSet, s.JurisdictionSerializer,
        editable=False, deletable=False, select_related=("parent",),
    ),
    Resource(
        Industry, t.IndustryTable, f.IndustryFilterSet, s.IndustrySerializer,
        editable=False, deletable=False, select_related=("parent",),
    ),
    Resource(Pollutant, t.PollutantTable, f.PollutantFilterSet, s.PollutantSerializer, editable=False, deletable=False),
    Resource(
        EmissionStandard, t.EmissionStandardTable, f.EmissionStandardFilterSet, s.EmissionStandardSerializer,
        form_class=forms.EmissionStandardForm, deletable=False, select_related=("region",),
        detail_template="registry/standard_detail.html",
        views={"create": views.StandardCreateView, "update": views.StandardUpdateView},
    ),
    Resource(
        Enterprise, t.EnterpriseTable, f.EnterpriseFilterSet, s.EnterpriseSerializer,
        form_class=forms.EnterpriseForm, select_related=("jurisdiction", "industry"),
        detail_template="registry/enterprise_detail.html",
        detail_fields=(
            "credit_code", "name", "short_name", "address", "longitude", "latitude", "industry", "jurisdiction",
            "management_class", "legal_representative", "status",
        ),
    ),
    Resource(
        EnterpriseContact, t.EnterpriseContactTable, f.EnterpriseContactFilterSet, s.EnterpriseContactSerializer,
        form_class=forms.EnterpriseContactForm, select_related=("enterprise",),
    ),
    Resource(
        Outlet, t.OutletTable, f.OutletFilterSet, s.OutletSerializer,
        form_class=forms.OutletForm, select_related=("enterprise",),
        detail_template="registry/outlet_detail.html",
    ),
    Resource(
        DataLogger, t.DataLoggerTable, f.DataLoggerFilterSet, s.DataLoggerSerializer,
        form_class=forms.DataLoggerForm, select_related=("outlet", "outlet__enterprise"),
        detail_fields=(
            "mn", "name", "outlet", "protocol_version", "crc_mode", "system_code", "pollutants", "is_total_control",
            "init_on_connect", "overtime_seconds", "recount", "ack_when_flag_absent", "manufacturer", "model_name",
            "status",
        ),
    ),
    Resource(
        Valve, t.ValveTable, f.ValveFilterSet, s.ValveSerializer,
        form_class=forms.ValveForm, select_related=("outlet", "outlet__enterprise", "logger"),
    ),
    Resource(
        Camera, t.CameraTable, f.CameraFilterSet, s.CameraSerializer,
        form_class=forms.CameraForm, select_related=("enterprise", "outlet"),
    ),
]  # fmt: skip
