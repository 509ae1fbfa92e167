from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "totalcap.ingest"
    label = "ingest"
    verbose_name = "数据接入"

    def ready(self) -> None:
        from totalcap.web.navigation import Item, add

        add("ingest", Item("数采仪在线状态", "ingest:live", "ingest.view_loggersession", "broadcast"))
        add("ingest", Item("原始报文", "ingest:rawframe-list", "ingest.view_rawframe", "file-earmark-binary"))
        add("ingest", Item("反控命令", "ingest:command-list", "ingest.view_command", "send"))
        add("ingest", Item("现场端信息", "ingest:siteinfo-list", "ingest.view_siteinfo", "info-circle"))
