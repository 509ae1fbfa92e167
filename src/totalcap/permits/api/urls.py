from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import DefaultRouter

from totalcap.permits.api import views as v

router = DefaultRouter(trailing_slash=True)
router.register("permit", v.PermitViewSet, basename="api-permit")
router.register("version", v.PermitVersionViewSet, basename="api-permitversion")
router.register("item", v.PermitItemViewSet, basename="api-permititem")
router.register("specialperiodlimit", v.SpecialPeriodLimitViewSet, basename="api-specialperiodlimit")
router.register("report", v.ExecutionReportViewSet, basename="api-executionreport")
router.register("reminder", v.ReminderViewSet, basename="api-reminder")
router.register("calculation", v.LimitCalculationViewSet, basename="api-limitcalculation")
router.register("reportrule", v.ReportRuleViewSet, basename="api-reportrule")

urlpatterns: list[URLPattern | URLResolver] = [
    path("calculator/compute/", v.CalculatorComputeView.as_view(), name="api-calculator-compute"),
    path("calculator/worksheet/", v.CalculatorWorksheetAPIView.as_view(), name="api-calculator-worksheet"),
    path("calculator/standards/", v.CalculatorStandardsView.as_view(), name="api-calculator-standards"),
    path("calculator/apply/", v.CalculatorApplyView.as_view(), name="api-calculator-apply"),
    *router.urls,
]
