from django.urls import URLPattern, URLResolver, path

from totalcap.monitoring import filtersets as f
from totalcap.monitoring import tables as t
from totalcap.monitoring.resources import RESOURCES
from totalcap.monitoring.views import outlet, pages

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", outlet.OutletOverviewView.as_view(), name="overview"),
    path("outlet/<int:pk>/", outlet.OutletMonitoringView.as_view(), name="outlet"),
    path("outlet/<int:pk>/calendar/", outlet.CalendarView.as_view(), name="outlet-calendar"),
    path(
        "outlet/<int:pk>/hour/<str:pollutant>/<str:hour>/",
        outlet.HourDetailView.as_view(),
        name="hour-detail",
    ),
    path("rates/", outlet.RatesView.as_view(), name="rates"),
    path(
        "hourvalue/",
        pages.HourValueListView.as_view(table_class=t.HourValueTable, filterset_class=f.HourValueFilterSet),
        name="hourvalue-list",
    ),
    path(
        "sample/",
        pages.SampleListView.as_view(table_class=t.SampleTable, filterset_class=f.SampleFilterSet),
        name="sample-list",
    ),
    path("reviewaction/new/", pages.ReviewCreateView.as_view(), name="reviewaction-create"),
    path("reviewaction/<int:pk>/revert/", pages.review_revert, name="reviewaction-revert"),
    path("suspicion/<int:pk>/<str:action>/", pages.suspicion_action, name="suspicion-action"),
    path("manualmeasurement/import/", pages.manual_import, name="manual-import"),
    path("manualmeasurement/template.xlsx", pages.manual_template, name="manual-template"),
    path("ruleset/publish/", pages.ruleset_publish, name="ruleset-publish"),
]
urlpatterns += [p for resource in RESOURCES for p in resource.urls()]
