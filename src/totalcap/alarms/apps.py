from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "totalcap.alarms"
    label = "alarms"
    verbose_name = "报警"

    def ready(self) -> None:
        from totalcap.web.navigation import Item, add

        add("alarms", Item("报警列表", "alarms:alarm-list", "alarms.view_alarm", "bell"))
        add("alarms", Item("通知记录", "alarms:delivery-list", "alarms.view_delivery", "send"))

        from totalcap.base.events import register_labels

        register_labels(
            {
                "alarm_raised": "报警",
                "alarm_escalated": "报警升级",
                "acknowledge": "确认报警",
                "clear": "解除报警",
            }
        )
