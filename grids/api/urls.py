from django.urls import path
from rest_framework.routers import SimpleRouter

from grids.api import views

router = SimpleRouter()
router.register("subjects", views.SubjectViewSet, basename="subject")

urlpatterns = [
    path("cells/", views.GridCellGeoJSONView.as_view(), name="grid-cells"),
    path("locate/", views.LocateView.as_view(), name="grid-locate"),
    *router.urls,
]
