from django.urls import path

from totalcap.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("events/", views.DomainEventListView.as_view(), name="event-list"),
]
