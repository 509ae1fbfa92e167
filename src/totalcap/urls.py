"""Root URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from totalcap.web.views import healthz

admin.site.site_header = "TotalCap 系统管理"
admin.site.site_title = "TotalCap"

urlpatterns = [
    path("", include("totalcap.web.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("registry/", include("totalcap.registry.urls")),
    path("permits/", include("totalcap.permits.urls")),
    path("ingest/", include("totalcap.ingest.urls")),
    path("monitoring/", include("totalcap.monitoring.urls")),
    path("alarms/", include("totalcap.alarms.urls")),
    path("quotas/", include("totalcap.quotas.urls")),
    path("api/", include("totalcap.registry.api.urls")),
    path("api/permits/", include("totalcap.permits.api.urls")),
    path("api/ingest/", include("totalcap.ingest.api.urls")),
    path("api/monitoring/", include("totalcap.monitoring.api.urls")),
    path("api/alarms/", include("totalcap.alarms.api.urls")),
    path("api/quotas/", include("totalcap.quotas.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
