from django.urls import URLPattern, URLResolver, path

from totalcap.alarms import views
from totalcap.alarms.resources import RESOURCES

app_name = "alarms"

urlpatterns: list[URLPattern | URLResolver] = [p for resource in RESOURCES for p in resource.urls()]
urlpatterns += [
    path("alarm/<int:pk>/<str:action>/", views.alarm_action, name="alarm-action"),
    path("inbox/", views.inbox, name="inbox"),
]
