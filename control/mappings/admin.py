from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from control.core.admin_scoping import ServiceForm, WorkspaceScopedAdmin
from control.mappings import services
from control.mappings.models import Mapping, MappingVersion
from control.mappings.testing import SchemaUse, mapping_run
from control.schemas.models import SchemaVersion

MONO = {"style": "font-family: monospace", "cols": 100}


class MappingForm(ServiceForm):
    expression = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, **MONO}),
        help_text="JSONata. On an existing mapping: saved as the next version; leave empty to keep the versions.",
    )
    sample_input = forms.JSONField(required=False, widget=forms.Textarea(attrs={"rows": 5, **MONO}))
    expected_output = forms.JSONField(required=False, widget=forms.Textarea(attrs={"rows": 5, **MONO}))

    class Meta:
        model = Mapping
        fields = ["workspace", "name", "description"]

    def apply(self, data: dict[str, Any]) -> Mapping:
        sample = {"sample_input": data.get("sample_input"), "expected_output": data.get("expected_output")}
        if not self.instance.pk:
            return services.mapping_create(
                workspace=data["workspace"],
                name=data["name"],
                description=data.get("description", ""),
                expression=data.get("expression") or "",
                actor=self.actor,
                **sample,
            )
        mapping = services.mapping_update(
            mapping=self.instance, actor=self.actor, data={"description": data.get("description", "")}
        )
        if data.get("expression"):
            services.mapping_version_create(mapping=mapping, expression=data["expression"], actor=self.actor, **sample)
        return mapping


class MappingVersionInline(admin.TabularInline):
    model = MappingVersion
    fields = ["version", "expression", "sample_input", "expected_output", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-version"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # the parent page is already scoped


class MappingTestForm(forms.Form):
    expression = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 10, **MONO}))
    sample = forms.JSONField(widget=forms.Textarea(attrs={"rows": 8, **MONO}), help_text="One event, as JSON.")
    input_schema_version = forms.ModelChoiceField(queryset=SchemaVersion.objects.none(), required=False)
    output_schema_version = forms.ModelChoiceField(queryset=SchemaVersion.objects.none(), required=False)
    expected_output = forms.JSONField(required=False, widget=forms.Textarea(attrs={"rows": 4, **MONO}))


def _use(version: SchemaVersion | None) -> SchemaUse | None:
    return SchemaUse(str(version.schema_id), version.version, version.definition) if version else None


@admin.register(Mapping)
class MappingAdmin(WorkspaceScopedAdmin):
    form = MappingForm
    inlines = [MappingVersionInline]
    list_display = ["name", "workspace", "latest", "test_link", "updated_at"]
    list_filter = ["workspace"]
    search_fields = ["name", "description", "versions__expression"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["workspace", "name"] if obj else []

    @admin.display(description="latest version")
    def latest(self, obj: Mapping) -> str:
        latest = obj.latest_version
        return f"v{latest.version}" if latest else "-"

    @admin.display(description="")
    def test_link(self, obj: Mapping) -> str:
        return format_html('<a href="{}">Test…</a>', reverse("admin:mappings_mapping_test", args=[obj.pk]))

    def get_urls(self) -> list[Any]:
        test = self.admin_site.admin_view(self.test_view)
        return [path("<int:pk>/test/", test, name="mappings_mapping_test"), *super().get_urls()]

    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Run the mapping on a sample with the workers' code and show the result under the form."""
        mapping = self.get_queryset(request).filter(pk=pk).first()
        if mapping is None or not self.has_view_permission(request, mapping):
            raise Http404("mapping not found")
        latest = mapping.latest_version
        initial = {"expression": latest.expression if latest else "", "sample": latest.sample_input if latest else {}}
        form = MappingTestForm(request.POST or None, initial=initial)
        schemas = SchemaVersion.objects.filter(schema__workspace=mapping.workspace).select_related("schema")
        form.fields["input_schema_version"].queryset = schemas
        form.fields["output_schema_version"].queryset = schemas
        result = None
        # Running a test is an editor's action, as in the API; viewers see the form read-only.
        can_run = self.has_change_permission(request, mapping)
        if request.method == "POST" and can_run and form.is_valid():
            data = form.cleaned_data
            result = mapping_run(
                expression=data["expression"],
                sample=data["sample"],
                input_schema=_use(data.get("input_schema_version")),
                output_schema=_use(data.get("output_schema_version")),
                expected_output=data.get("expected_output"),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Test mapping {mapping}",
            "opts": self.model._meta,
            "original": mapping,
            "form": form,
            "can_run": can_run,
            "result": result,
            "output_json": json.dumps(result.output, indent=2, ensure_ascii=False) if result and result.ok else "",
        }
        return TemplateResponse(request, "admin/mappings/mapping/test.html", context)
