"""What every page's top bar shows: the pages of the user's roles and the unread count."""

from core.navigation import nav_items
from core.selectors import notifications_unread


def navigation(request) -> dict:
    """Two queries for a signed-in user (the roles, read once per request, and the unread
    count); none for anyone else. Lazy: a page that does not draw the top bar asks nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread() -> int:
        return notifications_unread(user=user).count()

    return {"nav_items": lambda: nav_items(user), "notifications_unread_count": unread}
