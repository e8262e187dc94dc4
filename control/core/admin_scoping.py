"""What every workspace-owned admin page shares: tenancy, role-based permissions, and saves through the services.

Non-staff users see only their workspaces' objects; what they may change follows their role, exactly as in the
API. Saves run the app's service from the form (ServiceForm), so the admin gets the same validation (shown on the
form, field by field) and the same audit record as an API call.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from control.core.exceptions import ApplicationError
from control.core.tenancy import is_platform_staff
from control.workspaces.choices import ROLE_RANK, Role
from control.workspaces.models import Workspace


def workspaces_with_role(user: Any, role: str) -> QuerySet[Workspace]:
    if is_platform_staff(user):
        return Workspace.objects.all()
    if not getattr(user, "is_authenticated", False):  # the login page asks before anyone logged in
        return Workspace.objects.none()
    allowed = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[role]]
    return Workspace.objects.filter(memberships__user=user, memberships__role__in=allowed).distinct()


class ServiceForm(forms.ModelForm):
    """A model form whose save is a service call, made once the form's own validation has passed.

    The admin's change view runs inside a transaction; the service runs in a savepoint, so a refusal leaves
    nothing behind and its messages land on the form's fields.
    """

    actor: Any = None

    def apply(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.instance = self.apply(self.cleaned_data)
        except ApplicationError as exc:
            placed = False
            for name, messages in exc.details.items():
                if name in self.fields:
                    self.add_error(name, messages if isinstance(messages, list) else str(messages))
                    placed = True
            if not placed:
                self.add_error(None, exc.message)


class WorkspaceScopedAdmin(admin.ModelAdmin):
    """Scoped by `workspace_path`; viewers read, `write_role` (editor by default) adds and changes."""

    workspace_path = "workspace"
    write_role: str = Role.EDITOR
    list_per_page = 50

    def _workspace_of(self, obj: Model) -> Workspace:
        value: Any = obj
        for part in self.workspace_path.split("__"):
            value = getattr(value, part)
        return value

    def _has_role(self, request: HttpRequest, role: str, obj: Model | None) -> bool:
        if is_platform_staff(request.user):
            return True
        workspaces = workspaces_with_role(request.user, role)
        return workspaces.filter(pk=self._workspace_of(obj).pk).exists() if obj is not None else workspaces.exists()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if is_platform_staff(request.user):
            return queryset
        return queryset.filter(**{f"{self.workspace_path}__in": workspaces_with_role(request.user, Role.VIEWER)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, Role.VIEWER, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._has_role(request, Role.VIEWER, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._has_role(request, self.write_role, None)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._has_role(request, self.write_role, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # deleting goes through the services' own rules (tombstones, in-use checks) via actions

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        writable = workspaces_with_role(request.user, self.write_role)
        related = db_field.related_model
        if related is Workspace:
            kwargs["queryset"] = writable
        else:
            kwargs["queryset"] = _scope(related, writable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs["queryset"] = _scope(db_field.related_model, workspaces_with_role(request.user, self.write_role))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing to do: ServiceForm saved through the service while validating."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Relations (destinations) were set by the service too; the read-only inlines have nothing to save."""


def _scope(model: Any, workspaces: QuerySet[Workspace]) -> QuerySet[Any]:
    for path in ("workspace", "schema__workspace", "mapping__workspace"):
        try:
            model._meta.get_field(path.split("__")[0])
        except FieldDoesNotExist:
            continue
        return model.objects.filter(**{f"{path}__in": workspaces})
    return model.objects.all()
