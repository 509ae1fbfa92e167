from __future__ import annotations

from rest_framework import serializers

from totalcap.alarms.models import Alarm, Delivery, InAppNotification
from totalcap.base.api import ScopedModelSerializer


class AlarmSerializer(ScopedModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, default=None)

    class Meta:
        model = Alarm
        fields = [
            "id", "type", "severity", "source", "title", "message", "payload", "enterprise", "enterprise_name",
            "outlet", "jurisdiction", "status", "raised_at", "last_seen_at", "occurrences", "acknowledged_by",
            "acknowledged_at", "cleared_by", "cleared_at", "clear_reason", "escalation_level", "escalate_at",
        ]  # fmt: skip
        read_only_fields = fields


class DeliverySerializer(ScopedModelSerializer):
    channel_name = serializers.CharField(source="channel.name", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "alarm", "channel", "channel_name", "recipient_kind", "recipient_name", "address", "reason",
            "status", "attempts", "last_error", "sent_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ClearSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = InAppNotification
        fields = ["id", "alarm", "text", "created_at", "read_at"]
