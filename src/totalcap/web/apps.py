from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "totalcap.web"
    label = "web"
    verbose_name = "界面"
