from django.urls import URLPattern, URLResolver, path

from totalcap.quotas import views
from totalcap.quotas.resources import RESOURCES

app_name = "quotas"

urlpatterns: list[URLPattern | URLResolver] = [
    path("board/", views.board, name="board"),
    path("regiontotal/<int:pk>/activate/", views.region_total_activate, name="regiontotal-activate"),
    path("regiontotal/<int:pk>/propose/", views.allocation_propose, name="allocation-propose"),
    path("allocationplan/<int:pk>/save/", views.allocation_plan_save, name="allocationplan-save"),
    path("periodplan/new/", views.period_plan_create, name="periodplan-create"),
    path(
        "periodplan/<int:pk>/action/<str:action>/",
        views.PeriodPlanActionView.as_view(),
        name="periodplan-action",
    ),
    path("specialperiod/<int:pk>/apply/", views.special_period_apply, name="specialperiod-apply"),
    path("card/new/", views.card_issue, name="card-create"),
    path("card/<int:pk>/action/<str:action>/", views.CardActionView.as_view(), name="card-action"),
    path("transfer/new/", views.transfer_create, name="transfer-create"),
    path(
        "transfer/<int:pk>/action/<str:action>/", views.TransferActionView.as_view(), name="transfer-action"
    ),
    path("valveorder/new/", views.valve_order_create, name="valveorder-create"),
    path(
        "valveorder/<int:pk>/action/<str:action>/",
        views.ValveOrderActionView.as_view(),
        name="valveorder-action",
    ),
]
urlpatterns += [p for resource in RESOURCES for p in resource.urls()]
