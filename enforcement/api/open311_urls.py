"""Open311 GeoReport v2, included at /open311/v2/ (config/urls.py). The format is the path's
suffix, as the spec has it: services.xml, requests/<id>.json."""

from django.urls import re_path

from enforcement.api import open311 as views

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^services" + FORMAT, views.service_list_view, name="services"),
    re_path(r"^services/(?P<code>[^/]+?)" + FORMAT, views.service_definition_view, name="service"),
    re_path(r"^requests" + FORMAT, views.request_list_view, name="requests"),
    re_path(r"^requests/(?P<number>[^/]+?)" + FORMAT, views.request_detail_view, name="request"),
    # Anything else under the prefix: the spec's 404 body rather than our HTML page.
    re_path(r"^.*?(?:\.(?P<fmt>json|xml))?$", views.not_found_view),
]
