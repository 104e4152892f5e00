from django.urls import path

from . import views

app_name = "extraction"

urlpatterns = [
    path("p/<slug:slug>/extraction/", views.home, name="home"),
    path("p/<slug:slug>/extraction/table/", views.table, name="table"),
    path("p/<slug:slug>/extraction/table/export/", views.table_export, name="table_export"),
]
