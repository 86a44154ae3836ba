from django.urls import path
from rest_framework.routers import SimpleRouter

from enforcement.api import field, views
from enforcement.api import webhooks as webhook_views

router = SimpleRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("calls", views.CallViewSet, basename="call")
router.register("supervisions", views.SupervisionViewSet, basename="supervision")
router.register(
    "webhook-endpoints", webhook_views.WebhookEndpointViewSet, basename="webhook-endpoint"
)
router.register(
    "webhook-deliveries", webhook_views.WebhookDeliveryViewSet, basename="webhook-delivery"
)

urlpatterns = [
    path("field-entries/discard/", field.FieldDiscardView.as_view(), name="field-discard"),
    *router.urls,
]
