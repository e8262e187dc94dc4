"""/api/v1/: JWT auth, the OpenAPI schema and its docs pages, and every workspace-scoped resource."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenVerifyView

from control.audit.apis import AuditEventApi
from control.destinations.apis import DestinationApi
from control.dlq.apis import DlqRecordApi
from control.mappings.apis import MappingApi
from control.monitoring.apis import PipelineStatsApi
from control.pipelines.apis import PipelineApi
from control.replay.apis import ReplayJobApi
from control.schemas.apis import SchemaApi
from control.streams.apis import IngestKeyApi, StreamApi
from control.workspaces.apis import MembershipApi, WorkspaceApi

WS = r"workspaces/(?P<workspace_slug>[a-z0-9-]+)"

router = DefaultRouter(trailing_slash="/?")
router.register("workspaces", WorkspaceApi, basename="workspace")
router.register(f"{WS}/members", MembershipApi, basename="member")
router.register(f"{WS}/streams", StreamApi, basename="stream")
router.register(f"{WS}/ingest-keys", IngestKeyApi, basename="ingest-key")
router.register(f"{WS}/schemas", SchemaApi, basename="schema")
router.register(f"{WS}/mappings", MappingApi, basename="mapping")
router.register(f"{WS}/destinations", DestinationApi, basename="destination")
router.register(f"{WS}/pipelines", PipelineApi, basename="pipeline")
router.register(f"{WS}/audit-events", AuditEventApi, basename="audit-event")
router.register(f"{WS}/streams/(?P<stream_pk>[0-9]+)/dlq", DlqRecordApi, basename="dlq-record")
router.register(f"{WS}/replay-jobs", ReplayJobApi, basename="replay-job")
router.register(f"{WS}/pipeline-stats", PipelineStatsApi, basename="pipeline-stats")


class _AuthThrottled:
    """The token endpoints count against the stricter "auth" rate (password guessing)."""

    throttle_scope = "auth"


class TokenObtain(_AuthThrottled, TokenObtainPairView):
    pass


class TokenRefresh(_AuthThrottled, TokenRefreshView):
    pass


class TokenVerify(_AuthThrottled, TokenVerifyView):
    pass


urlpatterns = [
    path("auth/token/", TokenObtain.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefresh.as_view(), name="token-refresh"),
    path("auth/token/verify/", TokenVerify.as_view(), name="token-verify"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include(router.urls)),
]
