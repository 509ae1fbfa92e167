from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from totalcap.alarms.models import Alarm, Delivery
from totalcap.base.tables import BaseTable

SEVERITY_BADGE = {"info": "secondary", "warning": "warning", "major": "danger", "critical": "danger"}


class AlarmTable(BaseTable):
    title = tables.Column(linkify=True)
    severity = tables.Column()

    class Meta(BaseTable.Meta):
        model = Alarm
        fields = ("raised_at", "severity", "title", "enterprise", "status", "occurrences", "escalation_level")

    def render_severity(self, value: str, record: Alarm) -> str:
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            SEVERITY_BADGE.get(record.severity, "secondary"),
            value,
        )


class DeliveryTable(BaseTable):
    class Meta(BaseTable.Meta):
        model = Delivery
        fields = (
            "created_at",
            "channel",
            "recipient_name",
            "address",
            "reason",
            "status",
            "attempts",
            "sent_at",
            "last_error",
        )
