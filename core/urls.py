from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/open", views.notification_open, name="notification-open"),
    path("notifications/read-all", views.notifications_all_read, name="notifications-read-all"),
]
