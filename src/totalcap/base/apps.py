from django.apps import AppConfig


class BaseConfig(AppConfig):
    name = "totalcap.base"
    label = "base"
    verbose_name = "基础"
