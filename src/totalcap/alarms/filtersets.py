from __future__ import annotations

import django_filters

from totalcap.alarms.choices import AlarmStatus
from totalcap.alarms.models import Alarm, Delivery
from totalcap.base.filtersets import ScopedFilterSet
from totalcap.registry.models import Enterprise


class AlarmFilterSet(ScopedFilterSet):
    search_fields = ("title", "message", "source", "enterprise__name")
    status = django_filters.MultipleChoiceFilter(label="状态", choices=AlarmStatus.choices)
    enterprise = django_filters.ModelChoiceFilter(label="排污单位", queryset=Enterprise.objects.all())
    raised_after = django_filters.DateTimeFilter(label="起始时间", field_name="raised_at", lookup_expr="gte")

    class Meta:
        model = Alarm
        fields = ["status", "severity", "type", "enterprise"]


class DeliveryFilterSet(ScopedFilterSet):
    search_fields = ("address", "recipient_name", "text")

    class Meta:
        model = Delivery
        fields = ["status", "channel", "alarm"]
