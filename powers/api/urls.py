from django.urls import path
from rest_framework.routers import SimpleRouter

from powers.api import views

router = SimpleRouter()
router.register("items", views.PowerItemViewSet, basename="power-item")
router.register("adjustments", views.AdjustmentViewSet, basename="adjustment")

urlpatterns = [
    path("catalogues/<str:street>/", views.CatalogueView.as_view(), name="catalogue"),
    path("usage/", views.UsageReportView.as_view(), name="usage"),
    *router.urls,
]
