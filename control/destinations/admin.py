from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from control.core.admin_scoping import ServiceForm, WorkspaceScopedAdmin
from control.destinations import services
from control.destinations.models import Destination

EDITABLE = [
    "description",
    "url",
    "method",
    "headers",
    "timeout_s",
    "auth_type",
    "auth_username",
    "retry_schedule_s",
    "max_concurrency",
    "circuit_failure_threshold",
]
SECRET_HELP = "Write-only. Leave empty to keep the current value."


class DestinationForm(ServiceForm):
    auth_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="Password or token. " + SECRET_HELP
    )
    signing_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="whsec_... " + SECRET_HELP
    )

    class Meta:
        model = Destination
        fields = ["workspace", "name", *EDITABLE]

    def apply(self, data: dict[str, Any]) -> Destination:
        auth_secret, signing_secret = data.pop("auth_secret", "") or None, data.pop("signing_secret", "") or None
        editable = {k: data[k] for k in EDITABLE if k in data}
        if self.instance.pk:
            return services.destination_update(
                destination=self.instance,
                actor=self.actor,
                data=editable,
                auth_secret=auth_secret,
                signing_secret=signing_secret,
            )
        return services.destination_create(
            workspace=data["workspace"],
            name=data["name"],
            actor=self.actor,
            auth_secret=auth_secret or "",
            signing_secret=signing_secret or "",
            **editable,
        )


@admin.register(Destination)
class DestinationAdmin(WorkspaceScopedAdmin):
    form = DestinationForm
    list_display = ["name", "workspace", "url", "method", "auth_type", "signed", "updated_at"]
    list_filter = ["workspace", "auth_type", "method"]
    search_fields = ["name", "url", "description"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["workspace", "name"] if obj else []

    @admin.display(boolean=True, description="signed")
    def signed(self, obj: Destination) -> bool:
        return bool(obj.signing_secret_enc)
