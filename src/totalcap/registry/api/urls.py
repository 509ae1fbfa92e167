from rest_framework.routers import DefaultRouter

from totalcap.registry.resources import RESOURCES

router = DefaultRouter(trailing_slash=True)
for resource in RESOURCES:
    router.register(f"registry/{resource.name}", resource.viewset(), basename=f"api-{resource.name}")

urlpatterns = router.urls
