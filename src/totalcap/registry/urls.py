from django.urls import URLPattern

from totalcap.registry.resources import RESOURCES

app_name = "registry"

urlpatterns: list[URLPattern] = [p for resource in RESOURCES for p in resource.urls()]
