from django.urls import path
from rest_framework.routers import DefaultRouter

from totalcap.quotas.api import views as v

router = DefaultRouter(trailing_slash=True)
router.register("regiontotal", v.RegionTotalViewSet, basename="api-regiontotal")
router.register("allocationplan", v.AllocationPlanViewSet, basename="api-allocationplan")
router.register("periodplan", v.PeriodPlanViewSet, basename="api-periodplan")
router.register("specialperiod", v.SpecialPeriodViewSet, basename="api-specialperiod")
router.register("account", v.QuotaAccountViewSet, basename="api-quotaaccount")
router.register("card", v.CardViewSet, basename="api-card")
router.register("swipe-log", v.CardSwipeViewSet, basename="api-cardswipe")
router.register("transfer", v.TransferViewSet, basename="api-transfer")
router.register("valveorder", v.ValveOrderViewSet, basename="api-valveorder")
router.register("settlement", v.SettlementViewSet, basename="api-settlement")

urlpatterns = [
    path("swipe/", v.SwipeView.as_view(), name="api-swipe"),
    path("board/", v.BoardView.as_view(), name="api-board"),
    *router.urls,
]
