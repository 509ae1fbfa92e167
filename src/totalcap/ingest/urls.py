from django.urls import URLPattern, URLResolver, path

from totalcap.ingest import views
from totalcap.ingest.resources import PAGE_RESOURCES

app_name = "ingest"

urlpatterns: list[URLPattern | URLResolver] = [
    path("live/", views.LiveView.as_view(), name="live"),
    path("command/new/", views.send_command, name="command-send"),
    path("command/<int:pk>/<str:action>/", views.command_action, name="command-action"),
    path("metrics", views.metrics, name="metrics"),
]
urlpatterns += [p for resource in PAGE_RESOURCES for p in resource.urls()]
