from rest_framework.routers import DefaultRouter

from totalcap.alarms.api.views import AlarmViewSet, NotificationViewSet
from totalcap.alarms.resources import RESOURCES

router = DefaultRouter(trailing_slash=True)
router.register("alarm", AlarmViewSet, basename="api-alarm")
for resource in RESOURCES[1:]:
    router.register(resource.name, resource.viewset(), basename=f"api-{resource.name}")
router.register("notification", NotificationViewSet, basename="api-notification")

urlpatterns = router.urls
