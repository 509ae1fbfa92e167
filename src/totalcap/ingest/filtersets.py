"""Ingest filtersets (UI lists and API lists)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from totalcap.base.filtersets import ScopedFilterSet
from totalcap.ingest import choices as ch
from totalcap.ingest.models import Command, RawFrame, SiteInfo
from totalcap.registry.models import DataLogger

DT = {"type": "datetime-local"}


class RawFrameFilterSet(ScopedFilterSet):
    """Frames of one logger (or of an unregistered MN), by time, CN, status and direction.

    Without a start time the last 24 hours are shown (the table is large and partitioned by time).
    """

    logger = django_filters.ModelChoiceFilter(label="数采仪", queryset=DataLogger.objects.all())
    mn = django_filters.CharFilter(label="MN", lookup_expr="exact")
    since = django_filters.DateTimeFilter(
        label="开始时间",
        field_name="received_at",
        lookup_expr="gte",
        widget=django_filters.widgets.forms.DateTimeInput(attrs=DT),
    )
    until = django_filters.DateTimeFilter(
        label="结束时间",
        field_name="received_at",
        lookup_expr="lt",
        widget=django_filters.widgets.forms.DateTimeInput(attrs=DT),
    )
    cn = django_filters.CharFilter(label="CN")
    status = django_filters.ChoiceFilter(label="处理结果", choices=ch.FrameStatus.choices)
    direction = django_filters.ChoiceFilter(label="方向", choices=ch.Direction.choices)

    class Meta:
        model = RawFrame
        fields = ["logger", "mn", "since", "until", "cn", "status", "direction"]

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("since"):
            queryset = queryset.filter(received_at__gte=timezone.now() - timedelta(days=1))
        return queryset


class CommandFilterSet(ScopedFilterSet):
    search_fields = ("logger__mn", "logger__name", "qn")
    logger = django_filters.ModelChoiceFilter(label="数采仪", queryset=DataLogger.objects.all())
    state = django_filters.ChoiceFilter(label="状态", choices=ch.CommandState.choices)
    cn = django_filters.CharFilter(label="CN")

    class Meta:
        model = Command
        fields = ["logger", "state", "cn", "source"]


class SiteInfoFilterSet(ScopedFilterSet):
    logger = django_filters.ModelChoiceFilter(label="数采仪", queryset=DataLogger.objects.all())
    code = django_filters.CharFilter(label="编码")
    source = django_filters.ChoiceFilter(label="来源", choices=ch.InfoSource.choices)

    class Meta:
        model = SiteInfo
        fields = ["logger", "source", "code", "pollutant"]
