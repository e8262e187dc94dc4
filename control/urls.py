from django.contrib import admin
from django.urls import include, path

from control.core.apis import healthz
from control.monitoring.views import metrics, readyz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("control.api_urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]
