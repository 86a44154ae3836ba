from django.urls import path

from powers import views

app_name = "powers"

urlpatterns = [
    path("usage/<str:street_code>/", views.usage_report, name="usage-report"),
    path(
        "usage/<str:street_code>/export.xlsx", views.usage_report_export, name="usage-report-export"
    ),
]
