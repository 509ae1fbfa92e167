"""Base table: Bootstrap styling, Chinese empty text, export to Excel and CSV."""

from __future__ import annotations

import django_tables2 as tables


class BaseTable(tables.Table):
    """All list pages use a subclass of this table."""

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = "没有符合条件的记录"
        template_name = "django_tables2/bootstrap5.html"
