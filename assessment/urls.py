from django.urls import path

from assessment import panels, results_views, views

app_name = "assessment"

urlpatterns = [
    path("callbacks/", views.callbacks_page, name="callbacks"),
    path("callbacks/<int:pk>/record/", views.callback_record_view, name="callback-record"),
    path("assessment/", results_views.assessment_index, name="index"),
    path("assessment/department/", results_views.department_page, name="department"),
    path(
        "assessment/published/<int:pk>/appeal/<int:target>/",
        results_views.appeal_file_view,
        name="appeal-file",
    ),
    path("assessment/published/<int:pk>.xlsx", results_views.period_export, name="export"),
    path(
        "assessment/appeals/<int:pk>/decide/",
        results_views.appeal_decide_view,
        name="appeal-decide",
    ),
    path(
        "assessment/<slug:code>/<str:kind>/<str:start>/",
        results_views.period_page,
        name="period",
    ),
    path(
        "assessment/<slug:code>/<str:kind>/<str:start>/manual/",
        results_views.manual_score_view,
        name="manual-score",
    ),
    path(
        "assessment/<slug:code>/<str:kind>/<str:start>/publish/",
        results_views.publish_view,
        name="publish",
    ),
]
urlpatterns += panels.urlpatterns
