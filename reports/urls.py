from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("p/<slug:slug>/", views.overview, name="overview"),
    path("p/<slug:slug>/reports/", views.home, name="home"),
    # PRISMA
    # Exports
    # Archive
]
