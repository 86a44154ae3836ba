"""Top-level routes. Each app adds its own ``urls.py`` here as it grows."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import views as core_views
from enforcement import views as enforcement_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", enforcement_views.metrics, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch posts here; the choice is kept in a cookie read by LocaleMiddleware.
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(("enforcement.api.urls", "enforcement-api"))),
    path("api/v1/grids/", include(("grids.api.urls", "grids-api"))),
    path("api/v1/powers/", include(("powers.api.urls", "powers-api"))),
    path("powers/", include("powers.urls")),
    path("", include("core.urls")),
    path("", include("enforcement.urls")),
    path("", include("assessment.urls")),
    path("open311/v2/", include(("enforcement.api.open311_urls", "open311"))),
    # OpenAPI 3 and Swagger UI, served from our own static files (drf-spectacular's sidecar).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

# Under /api/ and /open311/ a 404 or 500 raised outside DRF is a problem document, not HTML.
handler400 = "core.api.problem_bad_request"
handler404 = "core.api.problem_page_not_found"
handler500 = "core.api.problem_server_error"
