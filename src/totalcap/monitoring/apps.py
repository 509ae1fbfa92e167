from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "totalcap.monitoring"
    label = "monitoring"
    verbose_name = "在线监测"

    def ready(self) -> None:
        from totalcap.web.navigation import Item, add

        add("monitoring", Item("排放口监测", "monitoring:overview", "monitoring.view_hourvalue", "graph-up"))
        add("monitoring", Item("小时数据", "monitoring:hourvalue-list", "monitoring.view_hourvalue", "clock"))
        add(
            "monitoring",
            Item("日数据", "monitoring:dayvalue-list", "monitoring.view_dayvalue", "calendar-day"),
        )
        add(
            "monitoring",
            Item("月数据", "monitoring:monthvalue-list", "monitoring.view_monthvalue", "calendar3"),
        )
        add("monitoring", Item("原始监测数据", "monitoring:sample-list", "monitoring.view_sample", "list-ol"))
        add(
            "monitoring",
            Item(
                "排放量核算", "monitoring:emissiontotal-list", "monitoring.view_emissiontotal", "calculator"
            ),
        )
        add(
            "monitoring",
            Item(
                "核算版本记录",
                "monitoring:emissionhourlog-list",
                "monitoring.view_emissionhourlog",
                "clock-history",
            ),
        )
        add(
            "monitoring",
            Item(
                "修约替代记录",
                "monitoring:substitution-list",
                "monitoring.view_substitution",
                "arrow-left-right",
            ),
        )
        add("monitoring", Item("捕集率与传输率", "monitoring:rates", "monitoring.view_dayvalue", "percent"))
        add(
            "monitoring",
            Item("数据复核", "monitoring:reviewaction-list", "monitoring.view_reviewaction", "check2-square"),
        )
        add(
            "monitoring",
            Item(
                "可疑数据", "monitoring:suspicion-list", "monitoring.view_suspicion", "exclamation-triangle"
            ),
        )
        add(
            "monitoring",
            Item(
                "手工监测数据",
                "monitoring:manualmeasurement-list",
                "monitoring.view_manualmeasurement",
                "clipboard-data",
            ),
        )
        add(
            "monitoring",
            Item("设备状态", "monitoring:devicestate-list", "monitoring.view_devicestate", "cpu"),
        )
        add(
            "monitoring",
            Item(
                "排放口监测设置",
                "monitoring:outletmonitoringconfig-list",
                "monitoring.view_outletmonitoringconfig",
                "sliders",
            ),
        )
        add(
            "monitoring",
            Item(
                "核算方案",
                "monitoring:accountingplan-list",
                "monitoring.view_accountingplan",
                "journal-check",
            ),
        )
        add("reference", Item("监测规则集", "monitoring:ruleset-list", "monitoring.view_ruleset", "book"))
