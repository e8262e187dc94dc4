"""The admin site: platform staff see everything; workspace members get in too, scoped to their workspaces."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class SwitchyardAdminSite(AdminSite):
    site_header = "Switchyard"
    site_title = "Switchyard"
    index_title = "Integrations"

    def has_permission(self, request: HttpRequest) -> bool:
        from control.workspaces.models import Membership

        user = request.user
        if not (user.is_authenticated and user.is_active):
            return False
        return bool(user.is_staff or user.is_superuser or Membership.objects.filter(user=user).exists())


class SwitchyardAdminConfig(AdminConfig):
    """django.contrib.admin with the site above as `admin.site` (so every app's admin.py registers on it)."""

    default_site = "control.core.admin_site.SwitchyardAdminSite"
