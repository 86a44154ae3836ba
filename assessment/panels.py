"""The assessment app's panels on the command centre's dashboard (being written)."""

urlpatterns: list = []
PANEL_URLS: tuple[str, ...] = ()  # full URL names ("assessment:…")
