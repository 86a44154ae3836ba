from django.urls import path

from assessment import panels, views

app_name = "assessment"

urlpatterns = [
    path("callbacks/", views.callbacks_page, name="callbacks"),
    path("callbacks/<int:pk>/record/", views.callback_record_view, name="callback-record"),
]
urlpatterns += panels.urlpatterns
