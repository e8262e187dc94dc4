"""JWT (obtain / refresh with rotation and blacklist / verify), throttling, and the self-hosted API docs."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from tests.control.conftest import PASSWORD

pytestmark = [pytest.mark.django_db]


def _tokens(client: APIClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_jwt_opens_the_api_and_refresh_rotates_and_blacklists(team) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    tokens = _tokens(client, "viewer")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    listed = client.get("/api/v1/workspaces/")
    assert listed.status_code == 200
    assert [w["slug"] for w in listed.json()["results"]] == ["acme"]  # never globex

    anonymous = APIClient()
    assert anonymous.post("/api/v1/auth/token/verify/", {"token": tokens["access"]}, format="json").status_code == 200
    rotated = anonymous.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200 and rotated.json()["refresh"] != tokens["refresh"]
    reused = anonymous.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"
    assert "blacklisted" in reused.json()["error"]["message"]


def test_a_wrong_password_and_a_bad_token_use_the_error_shape(team) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    wrong = client.post("/api/v1/auth/token/", {"username": "viewer", "password": "nope"}, format="json")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "no_active_account"
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    bad = client.get("/api/v1/workspaces/")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "token_not_valid"
    missing = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["error"]["details"]["username"] == ["This field is required."]


def test_token_endpoints_are_throttled(team, settings) -> None:  # type: ignore[no-untyped-def]
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "auth": "3/min"}
    client = APIClient()
    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates  # read at class definition; this is how DRF's own tests do it
    try:
        responses = [
            client.post("/api/v1/auth/token/", {"username": "viewer", "password": "x"}, format="json") for _ in range(4)
        ]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    error = responses[-1].json()["error"]
    assert error["code"] == "throttled" and error["details"]["retry_after_s"] > 0
    assert "Retry-After" in responses[-1]


def test_openapi_schema_and_docs_pages_are_served_without_a_cdn(team) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(team.viewer)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/workspaces/{workspace_slug}/pipelines/{id}/activate/" in document["paths"]
    assert "/api/v1/workspaces/{workspace_slug}/mappings/test/" in document["paths"]

    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html, page
        assert "cdn" not in html.lower() and "unpkg" not in html.lower(), page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")


def test_responses_carry_the_correlation_id_they_were_given(team) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(team.owner)
    response = client.patch(
        "/api/v1/workspaces/acme/", {"name": "Acme 2"}, format="json", HTTP_X_CORRELATION_ID="abc-123"
    )
    assert response["X-Correlation-ID"] == "abc-123"
    from control.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="workspace.update")
    assert event.correlation_id == "abc-123" and event.actor == team.owner
    assert event.changes == {"name": {"before": "Acme", "after": "Acme 2"}}
