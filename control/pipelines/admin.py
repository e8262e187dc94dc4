from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from control.core.exceptions import ApplicationError
from control.pipelines import services
from control.pipelines.models import Pipeline, Stream
from streams.mapping import check_expression


@admin.register(Stream)
class StreamAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "partitions", "created_at"]
    list_filter = ["workspace"]
    search_fields = ["name", "workspace__slug"]

    def get_readonly_fields(self, request: HttpRequest, obj: Stream | None = None) -> list[str]:
        # Topic names and partition counts are fixed once the topics exist.
        return ["workspace", "name", "partitions"] if obj else []

    def save_model(self, request: HttpRequest, obj: Stream, form: forms.ModelForm, change: bool) -> None:
        if change:
            return
        try:
            services.stream_get_or_create(workspace=obj.workspace, name=obj.name, partitions=obj.partitions)
        except ApplicationError as exc:
            messages.error(request, exc.message)


class PipelineForm(forms.ModelForm):
    destination_url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = Pipeline
        fields = ["workspace", "name", "source", "target", "mapping", "destination_url", "state"]

    def clean_mapping(self) -> str:
        mapping: str = self.cleaned_data["mapping"]
        error = check_expression(mapping)
        if error is not None:
            raise forms.ValidationError(f"{error.code or 'error'}: {error.message}")
        return mapping


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    form = PipelineForm
    list_display = ["name", "workspace", "source", "target", "state", "revision", "updated_at"]
    list_filter = ["workspace", "state"]
    search_fields = ["name", "workspace__slug", "destination_url"]
    readonly_fields = ["revision"]

    def save_model(self, request: HttpRequest, obj: Pipeline, form: forms.ModelForm, change: bool) -> None:
        # The same service as the API: same validation, and the spec is published with the save.
        try:
            services.pipeline_save(pipeline=obj)
        except ApplicationError as exc:
            messages.error(request, f"Not saved: {exc.message}")
