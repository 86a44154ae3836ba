"""Routes of the bench's gunicorn (bench.api_settings): the project's, plus ``POST
/bench/minimal/``, the yardstick of bench/api_intake.py. It creates one row of a trivial model
(an in-app notification to the caller) through a DRF ModelSerializer and CreateAPIView, with the
API's default authentication and permission (an API key, as the intake endpoint takes it): the
least a create endpoint of this stack costs, so that the intake is judged against it."""

from django.urls import path
from rest_framework import generics, serializers

from config.urls import urlpatterns as project_urlpatterns
from core.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body"]


class NotificationCreateView(generics.CreateAPIView):
    serializer_class = NotificationSerializer

    def perform_create(self, serializer):
        serializer.save(recipient=self.request.user)


urlpatterns = [
    path("bench/minimal/", NotificationCreateView.as_view(), name="bench-minimal"),
    *project_urlpatterns,
]
