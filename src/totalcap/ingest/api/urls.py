from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import DefaultRouter

from totalcap.ingest.api import views
from totalcap.ingest.resources import API_RESOURCES

router = DefaultRouter(trailing_slash=True)
for resource in API_RESOURCES:
    router.register(resource.name, resource.viewset(), basename=f"api-ingest-{resource.name}")
router.register("command", views.CommandViewSet, basename="api-ingest-command")

urlpatterns: list[URLPattern | URLResolver] = [
    path("command-types/", views.command_types, name="api-ingest-command-types"),
    *router.urls,
]
