from django.urls import URLPattern, URLResolver, path

from totalcap.permits import calculator_views as cv
from totalcap.permits import views as v

app_name = "permits"

urlpatterns: list[URLPattern | URLResolver] = [
    path("permit/", v.PermitListView.as_view(), name="permit-list"),
    path("permit/new/", v.PermitCreateView.as_view(), name="permit-create"),
    path("permit/<int:pk>/", v.PermitDetailView.as_view(), name="permit-detail"),
    path("permit/<int:pk>/do/<str:action>/", v.PermitTransitionView.as_view(), name="permit-transition"),
    path("permit/<int:pk>/apply/<str:kind>/", v.PermitApplyView.as_view(), name="permit-apply"),
    path("permitversion/", v.PermitVersionListView.as_view(), name="permitversion-list"),
    path("permitversion/<int:pk>/", v.PermitVersionDetailView.as_view(), name="permitversion-detail"),
    path("permitversion/<int:pk>/do/<str:action>/", v.PermitVersionTransitionView.as_view(), name="permitversion-transition"),
    path("permitversion/<int:pk>/diff/", v.PermitVersionDiffView.as_view(), name="permitversion-diff"),
    path("permitversion/<int:version>/item/new/", v.PermitItemCreateView.as_view(), name="permititem-create"),
    path("permititem/<int:pk>/edit/", v.PermitItemUpdateView.as_view(), name="permititem-update"),
    path("permititem/<int:pk>/delete/", v.PermitItemDeleteView.as_view(), name="permititem-delete"),
    path("permitversion/<int:version>/special/new/", v.SpecialCreateView.as_view(), name="specialperiodlimit-create"),
    path("specialperiodlimit/<int:pk>/edit/", v.SpecialUpdateView.as_view(), name="specialperiodlimit-update"),
    path("specialperiodlimit/<int:pk>/delete/", v.SpecialDeleteView.as_view(), name="specialperiodlimit-delete"),
    path("executionreport/", v.ExecutionReportListView.as_view(), name="executionreport-list"),
    path("executionreport/<int:pk>/", v.ExecutionReportDetailView.as_view(), name="executionreport-detail"),
    path("executionreport/<int:pk>/edit/", v.ExecutionReportUpdateView.as_view(), name="executionreport-update"),
    path("executionreport/<int:pk>/do/<str:action>/", v.ExecutionReportTransitionView.as_view(), name="executionreport-transition"),
    path("reminder/", v.ReminderListView.as_view(), name="reminder-list"),
    path("reportrule/", v.ReportRuleListView.as_view(), name="reportrule-list"),
    path("reportrule/<int:pk>/", v.ReportRuleDetailView.as_view(), name="reportrule-detail"),
    path("limitcalculation/", v.LimitCalculationListView.as_view(), name="limitcalculation-list"),
    path("limitcalculation/<int:pk>/", v.LimitCalculationDetailView.as_view(), name="limitcalculation-detail"),
    path("limitcalculation/<int:pk>/worksheet/", cv.CalculationWorksheetView.as_view(), name="limitcalculation-worksheet"),
    path("calculator/", cv.CalculatorView.as_view(), name="calculator"),
    path("calculator/worksheet/", cv.CalculatorWorksheetView.as_view(), name="calculator-worksheet"),
    path("calculator/apply/", cv.CalculatorApplyView.as_view(), name="calculator-apply"),
    path("calculator/save/", cv.CalculatorSaveView.as_view(), name="calculator-save"),
]  # fmt: skip
