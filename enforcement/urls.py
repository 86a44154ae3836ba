from django.urls import path

from enforcement.views import case, dashboard, desk, field, inbox

app_name = "enforcement"

urlpatterns = [
    # The field's phone pages (issue 16): an installable web app under /field/.
    path("field/", field.field_home, name="field-home"),
    path("field/tasks/", field.field_tasks_page, name="field-tasks"),
    path("field/tasks/<str:number>/", field.field_task_page, name="field-task"),
    path("field/report/", field.field_report_page, name="field-report"),
    path("field/reports/", field.field_reports_page, name="field-reports"),
    path("field/outbox/", field.field_outbox_page, name="field-outbox"),
    path("field/sw.js", field.field_service_worker, name="field-sw"),
    path("field/manifest.webmanifest", field.field_manifest, name="field-manifest"),
    path("desk/field-sync/", field.field_sync_page, name="field-sync"),
    path("desk/", desk.desk, name="desk"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/counters/", dashboard.dashboard_counters, name="dashboard-counters"),
    path("dashboard/map.json", dashboard.dashboard_map, name="dashboard-map"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/<str:action>/", inbox.inbox_call_action, name="inbox-call-action"),
    path("cases/<str:number>/", case.case_detail, name="case"),
    path("cases/<str:number>/actions/", case.case_actions, name="case-actions"),
    path("cases/<str:number>/act/<str:action>/", case.case_action, name="case-action"),
    path("cases/<str:number>/reveal-phone/", case.case_phone_reveal, name="case-phone-reveal"),
    path("cases/<str:number>/evidence/<int:pk>/", case.evidence_file, name="case-evidence"),
    path(
        "cases/<str:number>/supervisions/<int:pk>/answer/",
        case.supervision_answer_view,
        name="supervision-answer",
    ),
]
