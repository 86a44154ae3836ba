"""Top-level routes. Each app adds its own ``urls.py`` here as it grows."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

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
    path("api/v1/grids/", include(("grids.api.urls", "grids-api"))),
    path("api/v1/powers/", include(("powers.api.urls", "powers-api"))),
    path("powers/", include("powers.urls")),
    path("admin/", admin.site.urls),
]
