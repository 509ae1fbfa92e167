from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "totalcap.registry"
    label = "registry"
    verbose_name = "基础信息"
