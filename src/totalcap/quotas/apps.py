from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "totalcap.quotas"
    label = "quotas"
    verbose_name = "总量控制"

    def ready(self) -> None:
        from totalcap.web.navigation import Item, add

        add("quotas", Item("总量看板", "quotas:board", "quotas.view_quotaaccount", "speedometer2"))
        add("quotas", Item("区域总量", "quotas:regiontotal-list", "quotas.view_regiontotal", "pie-chart"))
        add(
            "quotas",
            Item("分配方案", "quotas:allocationplan-list", "quotas.view_allocationplan", "diagram-2"),
        )
        add("quotas", Item("排放计划", "quotas:periodplan-list", "quotas.view_periodplan", "calendar3"))
        add(
            "quotas",
            Item("特殊时段", "quotas:specialperiod-list", "quotas.view_specialperiod", "cloud-haze2"),
        )
        add("quotas", Item("IC卡", "quotas:card-list", "quotas.view_card", "credit-card"))
        add("quotas", Item("刷卡记录", "quotas:cardswipe-list", "quotas.view_cardswipe", "upc-scan"))
        add("quotas", Item("调剂与转让", "quotas:transfer-list", "quotas.view_transfer", "arrow-left-right"))
        add("quotas", Item("阀门指令", "quotas:valveorder-list", "quotas.view_valveorder", "sign-stop"))
        add(
            "quotas",
            Item("配额台账", "quotas:quotaaccount-list", "quotas.view_quotaaccount", "journal-bookmark"),
        )
        add("quotas", Item("结算", "quotas:settlement-list", "quotas.view_settlement", "calculator"))

        from totalcap.permits import hooks
        from totalcap.quotas.services.totals import allocation_in_tonnes

        hooks.register_allocation_provider(allocation_in_tonnes)

        from totalcap.base.events import register_labels

        register_labels({
            "region_total_activated": "下达区域总量", "allocation_proposed": "生成分配方案",
            "allocation_line_edited": "核定分配量", "allocation_approved": "批准分配方案", "reserve_drawn": "使用区域储备",
            "reserve_returned": "收回至区域储备", "plan_created": "编制排放计划", "special_period_applied": "执行特殊时段削减",
            "card_issued": "发卡", "report_lost": "挂失", "found": "解除挂失", "replace": "补卡", "card_swiped": "刷卡",
            "transfer_requested": "申请调剂/转让", "valve_order_requested": "发起阀门指令",
            "valve_order_created": "生成阀门指令", "valve_order_dispatched": "下发阀门指令", "sent": "已下发",
            "accepted": "设备受理", "executed": "设备执行", "confirmed": "现场确认", "timed_out": "超时",
            "month_settled": "月度结算", "year_settled": "年度结算", "offline_valve_action": "离线阀门动作",
        })  # fmt: skip

        from totalcap.ingest import hooks as ingest_hooks
        from totalcap.quotas.hooks import post_consumption, true_up_hours, warm_up

        ingest_hooks.register(post_consumption, warm=warm_up)

        from totalcap.monitoring.services.accounting import register_hour_listener

        register_hour_listener(true_up_hours)
