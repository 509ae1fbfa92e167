from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import DefaultRouter

from totalcap.monitoring.api import views
from totalcap.monitoring.resources import BY_NAME

router = DefaultRouter(trailing_slash=True)
router.register("sample", views.SampleViewSet, basename="api-monitoring-sample")
router.register("hourvalue", views.HourValueViewSet, basename="api-monitoring-hourvalue")
router.register("emissionhour", views.EmissionHourViewSet, basename="api-monitoring-emissionhour")
router.register("reviewaction", views.ReviewActionViewSet, basename="api-monitoring-reviewaction")
router.register(
    "manualmeasurement", views.ManualMeasurementViewSet, basename="api-monitoring-manualmeasurement"
)
router.register("suspicion", views.SuspicionViewSet, basename="api-monitoring-suspicion")
router.register("ruleset", views.RuleSetViewSet, basename="api-monitoring-ruleset")
for name in ("dayvalue", "monthvalue", "emissiontotal", "emissionhourlog", "substitution", "devicestate",
             "outletmonitoringconfig", "accountingplan"):  # fmt: skip
    router.register(name, BY_NAME[name].viewset(), basename=f"api-monitoring-{name}")

urlpatterns: list[URLPattern | URLResolver] = [
    path("outlets/<int:pk>/series/", views.SeriesView.as_view(), name="api-monitoring-series"),
    path("outlets/<int:pk>/calendar/", views.CalendarAPIView.as_view(), name="api-monitoring-calendar"),
    path(
        "outlets/<int:pk>/hours/<str:pollutant>/<str:hour>/",
        views.HourDetailAPIView.as_view(),
        name="api-monitoring-hour",
    ),
    path("outlets/<int:pk>/amounts/", views.AmountsView.as_view(), name="api-monitoring-amounts"),
    path("outlets/<int:pk>/recompute/", views.RecomputeView.as_view(), name="api-monitoring-recompute"),
    path("rates/", views.RatesAPIView.as_view(), name="api-monitoring-rates"),
    path("increments/", views.IncrementsView.as_view(), name="api-monitoring-increments"),
]
urlpatterns += router.urls
