"""Ingest API serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from totalcap.base.api import ScopedModelSerializer
from totalcap.ingest.catalogue import choices
from totalcap.ingest.models import Command, LoggerSession, RawFrame, SiteInfo
from totalcap.registry.models import DataLogger


class RawFrameSerializer(ScopedModelSerializer):
    text = serializers.SerializerMethodField(help_text="the frame's bytes as UTF-8 text")

    class Meta:
        model = RawFrame
        fields = ["id", "received_at", "direction", "logger", "mn", "peer", "gateway", "connection_id", "cn", "qn",
                  "data_time", "status", "warnings", "text"]  # fmt: skip
        read_only_fields = fields

    def get_text(self, obj: RawFrame) -> str:
        return obj.text()


class LoggerSessionSerializer(ScopedModelSerializer):
    mn = serializers.CharField(source="logger.mn", read_only=True)

    class Meta:
        model = LoggerSession
        fields = ["logger", "mn", "online", "gateway", "peer", "connected_at", "disconnected_at", "last_frame_at",
                  "last_cn", "frames", "bad_frames", "last_error", "last_error_at", "clock_drift_seconds",
                  "restart_time", "protocol_seen", "initialised_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class SiteInfoSerializer(ScopedModelSerializer):
    class Meta:
        model = SiteInfo
        fields = ["id", "logger", "outlet_id", "source", "pollutant", "code", "value", "text", "observed_at",
                  "frame_id", "received_at"]  # fmt: skip
        read_only_fields = fields


class CommandSerializer(ScopedModelSerializer):
    command_label = serializers.CharField(source="get_label", read_only=True)

    class Meta:
        model = Command
        fields = ["id", "logger", "name", "command_label", "cn", "params", "state", "qn", "source", "requested_by_label",
                  "requested_at", "expires_at", "overtime_seconds", "recount", "attempts", "sent_at", "last_sent_at",
                  "accepted_at", "qn_rtn", "completed_at", "exe_rtn", "result", "records", "error"]  # fmt: skip
        read_only_fields = fields


class SendCommandSerializer(serializers.Serializer):
    """``POST /api/ingest/commands/``: what to send to which logger."""

    logger = serializers.PrimaryKeyRelatedField(queryset=DataLogger.objects.all())
    command = serializers.ChoiceField(choices=choices())
    params = serializers.DictField(required=False, default=dict)
    expires_in_minutes = serializers.IntegerField(required=False, min_value=1, max_value=60 * 24 * 30)
    dedupe_key = serializers.CharField(required=False, max_length=128)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        field: Any = fields["logger"]
        field.queryset = DataLogger.objects.restrict(getattr(request, "user", None), None)
        return fields
