"""Ingest tables."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from totalcap.base.tables import BaseTable
from totalcap.ingest.models import Command, RawFrame, SiteInfo
from totalcap.registry.models import DataLogger


class RawFrameTable(BaseTable):
    id = tables.Column(linkify=True, verbose_name="ID")
    received_at = tables.DateTimeColumn(format="Y-m-d H:i:s")
    data_time = tables.DateTimeColumn(format="Y-m-d H:i:s")
    warnings = tables.Column(verbose_name="告警", orderable=False)

    class Meta(BaseTable.Meta):
        model = RawFrame
        fields = (
            "id",
            "received_at",
            "direction",
            "logger",
            "mn",
            "cn",
            "qn",
            "data_time",
            "status",
            "warnings",
            "peer",
        )
        order_by = ("-received_at",)

    def render_warnings(self, value: list[dict[str, str]] | None) -> str:
        return "、".join(str(w.get("code", "")) for w in value or []) or "—"


class CommandTable(BaseTable):
    id = tables.Column(linkify=True, verbose_name="ID")
    label = tables.Column(accessor="get_label", verbose_name="命令", orderable=False)
    requested_at = tables.DateTimeColumn(format="Y-m-d H:i:s")
    completed_at = tables.DateTimeColumn(format="Y-m-d H:i:s")

    class Meta(BaseTable.Meta):
        model = Command
        fields = ("id", "logger", "cn", "label", "state", "qn", "requested_by_label", "requested_at", "attempts",
                  "completed_at", "error")  # fmt: skip


class SiteInfoTable(BaseTable):
    observed_at = tables.DateTimeColumn(format="Y-m-d H:i:s")

    class Meta(BaseTable.Meta):
        model = SiteInfo
        fields = ("logger", "observed_at", "source", "pollutant", "code", "value", "text", "frame_id")


class LiveTable(BaseTable):
    """Loggers with their live connection state (the ``ingest_session`` row may be missing: never seen)."""

    mn = tables.Column(
        verbose_name="MN", linkify=lambda record: reverse("ingest:rawframe-list") + f"?logger={record.pk}"
    )
    name = tables.Column(verbose_name="名称")
    enterprise = tables.Column(accessor="outlet__enterprise__name", verbose_name="排污单位", orderable=False)
    state = tables.Column(accessor="pk", verbose_name="状态", orderable=False)
    peer = tables.Column(
        accessor="ingest_session__peer", verbose_name="对端地址", orderable=False, default="—"
    )
    connected_at = tables.DateTimeColumn(accessor="ingest_session__connected_at", verbose_name="连接时间",
                                         format="m-d H:i:s", orderable=False)  # fmt: skip
    last_frame_at = tables.DateTimeColumn(accessor="ingest_session__last_frame_at", verbose_name="最后报文",
                                          format="m-d H:i:s", orderable=False)  # fmt: skip
    last_cn = tables.Column(
        accessor="ingest_session__last_cn", verbose_name="CN", orderable=False, default="—"
    )
    drift = tables.Column(
        accessor="ingest_session__clock_drift_seconds", verbose_name="时钟偏差", orderable=False
    )
    last_error = tables.Column(accessor="ingest_session__last_error", verbose_name="最近错误", orderable=False,
                               default="—")  # fmt: skip

    class Meta(BaseTable.Meta):
        model = DataLogger
        fields = ("mn", "name", "enterprise", "state", "peer", "connected_at", "last_frame_at", "last_cn", "drift",
                  "last_error")  # fmt: skip
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "live-table"}

    def render_state(self, record: DataLogger) -> str:
        session = getattr(record, "ingest_session", None)
        if session is None:
            return format_html('<span class="badge text-bg-secondary">从未连接</span>')
        if session.online:
            return format_html('<span class="badge text-bg-success">在线</span>')
        return format_html('<span class="badge text-bg-danger">离线</span>')

    def render_drift(self, value: float | None) -> str:
        if value is None:
            return "—"
        css = "text-danger" if abs(value) > 60 else ""
        return format_html('<span class="{}">{} 秒</span>', css, f"{value:+.0f}")

    def render_last_error(self, value: str) -> str:
        return value[:60] if value else "—"
