"""Pages and endpoints of the ingest models, declared once (see base/resources.py)."""

from __future__ import annotations

from totalcap.base.resources import Resource
from totalcap.ingest import filtersets as f
from totalcap.ingest import tables as t
from totalcap.ingest import views as v
from totalcap.ingest.api import serializers as s
from totalcap.ingest.models import Command, LoggerSession, RawFrame, SiteInfo

RAW_FRAMES = Resource(
    RawFrame, t.RawFrameTable, f.RawFrameFilterSet, s.RawFrameSerializer, editable=False, deletable=False,
    select_related=("logger",), views={"list": v.RawFrameListView, "detail": v.RawFrameDetailView},
)  # fmt: skip
COMMANDS = Resource(
    Command, t.CommandTable, f.CommandFilterSet, s.CommandSerializer, editable=False, deletable=False,
    select_related=("logger",), views={"list": v.CommandListView, "detail": v.CommandDetailView},
)  # fmt: skip
SITE_INFO = Resource(
    SiteInfo, t.SiteInfoTable, f.SiteInfoFilterSet, s.SiteInfoSerializer, editable=False, deletable=False,
    select_related=("logger",),
)  # fmt: skip
SESSIONS = Resource(
    LoggerSession,
    None,
    None,
    s.LoggerSessionSerializer,
    editable=False,
    deletable=False,
    select_related=("logger",),
)

#: UI pages (the live page replaces a plain session list).
PAGE_RESOURCES = [RAW_FRAMES, COMMANDS, SITE_INFO]
#: Read-only API endpoints (commands have their own viewset).
API_RESOURCES = [RAW_FRAMES, SITE_INFO, SESSIONS]
