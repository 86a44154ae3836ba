"""The top bar's pages and each role's start page, registered by the apps that own the pages.

Core may import none of the domain apps (DESIGN.md: dependencies point one way), yet the top bar
and the start page name their pages: each app registers its own in its ``ready()``, by URL name,
and core reverses them. A reference of a notification (a case number …) becomes a link the
same way: the app that owns such references registers a resolver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.urls import NoReverseMatch, reverse

from core.selectors import user_roles


@dataclass(frozen=True)
class NavItem:
    """A page in the top bar for the holders of ``roles``; the first page after login of the
    holders of ``start_for`` (the first registered wins for a user of several roles)."""

    url_name: str
    label: str  # a lazy translation
    roles: frozenset[str]
    start_for: frozenset[str] = frozenset()


_ITEMS: list[NavItem] = []
_RESOLVERS: list[Callable[[str], str | None]] = []


def nav_register(item: NavItem) -> None:
    """Add ``item`` once (a second registration of the same URL name is ignored: ``ready()``
    may run twice in tests). Roles are kept as plain strings: a Role member does not hash
    like its value."""
    item = replace(
        item,
        roles=frozenset(str(getattr(r, "value", r)) for r in item.roles),
        start_for=frozenset(str(getattr(r, "value", r)) for r in item.start_for),
    )
    if all(existing.url_name != item.url_name for existing in _ITEMS):
        _ITEMS.append(item)


def reference_resolver_register(resolver: Callable[[str], str | None]) -> None:
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)


def _role_names(user) -> set[str]:
    return {str(role.value) for role in user_roles(user=user)}


def nav_items(user) -> list[NavItem]:
    """The pages of ``user``'s roles, in registration order; every page for a superuser."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return list(_ITEMS)
    roles = _role_names(user)
    return [item for item in _ITEMS if item.roles & roles]


def start_page(user) -> str | None:
    """The URL of ``user``'s start page, or None (the home card: a role whose pages are still to
    come, a superuser, a user without a role)."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return None
    roles = _role_names(user)
    for item in _ITEMS:
        if item.start_for & roles:
            return reverse(item.url_name)
    return None


def reference_url(reference: str) -> str | None:
    """Where a notification's reference is shown (the case page of a case number), or None."""
    for resolver in _RESOLVERS:
        try:
            url = resolver(reference)
        except NoReverseMatch:
            url = None
        if url:
            return url
    return None
