from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PermitsConfig(AppConfig):
    name = "totalcap.permits"
    label = "permits"
    verbose_name = "排污许可"

    def ready(self) -> None:
        from totalcap.web.navigation import Item, add

        add("permits", Item("排污许可证", "permits:permit-list", "permits.view_permit", "file-earmark-check"))
        add(
            "permits",
            Item("许可证版本", "permits:permitversion-list", "permits.view_permitversion", "layers"),
        )
        add(
            "permits",
            Item("执行报告", "permits:executionreport-list", "permits.view_executionreport", "journal-check"),
        )
        add("permits", Item("许可提醒", "permits:reminder-list", "permits.view_reminder", "bell"))
        add(
            "permits",
            Item("限值核定计算器", "permits:calculator", "permits.view_limitcalculation", "calculator"),
        )
        add(
            "permits",
            Item(
                "限值核定记录",
                "permits:limitcalculation-list",
                "permits.view_limitcalculation",
                "clipboard-data",
            ),
        )
        add(
            "reference",
            Item("执行报告期限", "permits:reportrule-list", "permits.view_reportrule", "calendar-check"),
        )
        post_migrate.connect(_load_rules, sender=self, dispatch_uid="totalcap.permits.load_rules")


def _load_rules(sender: AppConfig, **kwargs: Any) -> None:
    """Load the shipped execution-report rules once, when the table is empty (reference data)."""
    from totalcap.permits.models import ReportRule
    from totalcap.permits.schedule import load_report_rules

    if not ReportRule.objects.exists():
        load_report_rules()
