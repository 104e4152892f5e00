from django.urls import path

from . import views

app_name = "extraction"

urlpatterns = [
    path("p/<slug:slug>/extraction/", views.home, name="home"),
]
