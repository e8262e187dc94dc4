"""Every workspace endpoint against every kind of caller (NetBox-style, one table instead of copied tests).

For each endpoint: anonymous is 401; a member of another workspace gets 404 (for this workspace's URL, and for
this object's id under their own workspace); each role below the required one gets 403; the least role that
may do it succeeds, and so does platform staff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from control.audit.models import AuditEvent
from control.pipelines.services import pipeline_activate, pipeline_pause
from tests.control.conftest import World
from tests.control.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ROLES = ("viewer", "editor", "owner")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # formatted with the world's ids: {ws}, {stream}, {pipeline}, ...
    role: str  # the least role allowed
    status: int  # the status of a successful call
    body: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    prep: Callable[[World], None] = field(default=lambda w: None)


def _ids(w: World) -> dict[str, Any]:
    viewer_membership = w.workspace.memberships.get(role="viewer")
    return {
        "stream": w.stream.pk,
        "spare_stream": w.spare_stream.pk,  # type: ignore[attr-defined]
        "key": w.ingest_key.pk,
        "schema": w.schema.pk,
        "mapping": w.mapping.pk,
        "destination": w.destination.pk,
        "spare_destination": w.spare_destination.pk,  # type: ignore[attr-defined]
        "pipeline": w.pipeline.pk,
        "member": viewer_membership.pk,
        "event": AuditEvent.objects.filter(workspace=w.workspace).first().pk,
    }


def _activate(w: World) -> None:
    pipeline_activate(pipeline=w.pipeline)


def _activate_twice(w: World) -> None:
    pipeline_activate(pipeline=w.pipeline)
    pipeline_activate(pipeline=w.pipeline)


def _pause(w: World) -> None:
    pipeline_activate(pipeline=w.pipeline)
    pipeline_pause(pipeline=w.pipeline)


def _new_pipeline(w: World) -> dict[str, Any]:
    return {
        "name": "second",
        "source": w.stream.pk,
        "target": w.stream.pk,
        "mapping_version": w.mapping.versions.get().pk,
        "destinations": [w.destination.pk],
    }


NEW_SCHEMA_VERSION = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "total": {"type": "number"}, "note": {"type": "string"}},
    "required": ["id"],
}

W = "/api/v1/workspaces/{ws}"
ENDPOINTS: dict[str, Endpoint] = {
    "workspace-retrieve": Endpoint("get", W + "/", "viewer", 200),
    "workspace-rename": Endpoint("patch", W + "/", "owner", 200, lambda w: {"name": "Acme Corp"}),
    "member-list": Endpoint("get", W + "/members/", "viewer", 200),
    "member-retrieve": Endpoint("get", W + "/members/{member}/", "viewer", 200),
    "member-create": Endpoint(
        "post",
        W + "/members/",
        "owner",
        201,
        lambda w: {"username": UserFactory(username="newbie").username, "role": "viewer"},
    ),
    "member-update": Endpoint("patch", W + "/members/{member}/", "owner", 200, lambda w: {"role": "editor"}),
    "member-delete": Endpoint("delete", W + "/members/{member}/", "owner", 204),
    "stream-list": Endpoint("get", W + "/streams/", "viewer", 200),
    "stream-retrieve": Endpoint("get", W + "/streams/{stream}/", "viewer", 200),
    "stream-create": Endpoint("post", W + "/streams/", "editor", 201, lambda w: {"name": "refunds", "partitions": 1}),
    "stream-update": Endpoint("patch", W + "/streams/{stream}/", "editor", 200, lambda w: {"key_path": "customer.id"}),
    "stream-delete": Endpoint("delete", W + "/streams/{spare_stream}/", "editor", 204),
    "key-list": Endpoint("get", W + "/ingest-keys/", "viewer", 200),
    "key-retrieve": Endpoint("get", W + "/ingest-keys/{key}/", "viewer", 200),
    "key-create": Endpoint("post", W + "/ingest-keys/", "owner", 201, lambda w: {"name": "ci", "stream": w.stream.pk}),
    "key-revoke": Endpoint("post", W + "/ingest-keys/{key}/revoke/", "owner", 200),
    "schema-list": Endpoint("get", W + "/schemas/", "viewer", 200),
    "schema-retrieve": Endpoint("get", W + "/schemas/{schema}/", "viewer", 200),
    "schema-create": Endpoint(
        "post", W + "/schemas/", "editor", 201, lambda w: {"name": "refund", "definition": {"type": "object"}}
    ),
    "schema-update": Endpoint("patch", W + "/schemas/{schema}/", "editor", 200, lambda w: {"compatibility": "FULL"}),
    "schema-versions": Endpoint("get", W + "/schemas/{schema}/versions/", "viewer", 200),
    "schema-version-create": Endpoint(
        "post", W + "/schemas/{schema}/versions/", "editor", 201, lambda w: {"definition": NEW_SCHEMA_VERSION}
    ),
    "schema-version": Endpoint("get", W + "/schemas/{schema}/versions/1/", "viewer", 200),
    "mapping-list": Endpoint("get", W + "/mappings/", "viewer", 200),
    "mapping-retrieve": Endpoint("get", W + "/mappings/{mapping}/", "viewer", 200),
    "mapping-create": Endpoint("post", W + "/mappings/", "editor", 201, lambda w: {"name": "m2", "expression": "$"}),
    "mapping-update": Endpoint("patch", W + "/mappings/{mapping}/", "editor", 200, lambda w: {"description": "x"}),
    "mapping-versions": Endpoint("get", W + "/mappings/{mapping}/versions/", "viewer", 200),
    "mapping-version-create": Endpoint(
        "post", W + "/mappings/{mapping}/versions/", "editor", 201, lambda w: {"expression": '{"o": id}'}
    ),
    "mapping-version": Endpoint("get", W + "/mappings/{mapping}/versions/1/", "viewer", 200),
    "mapping-test": Endpoint("post", W + "/mappings/{mapping}/test/", "editor", 200, lambda w: {"sample": {"id": "1"}}),
    "mapping-test-unsaved": Endpoint(
        "post", W + "/mappings/test/", "editor", 200, lambda w: {"expression": "id", "sample": {"id": "1"}}
    ),
    "destination-list": Endpoint("get", W + "/destinations/", "viewer", 200),
    "destination-retrieve": Endpoint("get", W + "/destinations/{destination}/", "viewer", 200),
    "destination-create": Endpoint(
        "post", W + "/destinations/", "editor", 201, lambda w: {"name": "d2", "url": "https://example.org/in"}
    ),
    "destination-update": Endpoint(
        "patch", W + "/destinations/{destination}/", "editor", 200, lambda w: {"timeout_s": 3}
    ),
    "destination-delete": Endpoint("delete", W + "/destinations/{spare_destination}/", "editor", 204),
    "pipeline-list": Endpoint("get", W + "/pipelines/", "viewer", 200),
    "pipeline-retrieve": Endpoint("get", W + "/pipelines/{pipeline}/", "viewer", 200),
    "pipeline-create": Endpoint("post", W + "/pipelines/", "editor", 201, _new_pipeline),
    "pipeline-update": Endpoint("patch", W + "/pipelines/{pipeline}/", "editor", 200, lambda w: {"description": "x"}),
    "pipeline-delete": Endpoint("delete", W + "/pipelines/{pipeline}/", "editor", 204),
    "pipeline-activate": Endpoint("post", W + "/pipelines/{pipeline}/activate/", "editor", 200),
    "pipeline-pause": Endpoint("post", W + "/pipelines/{pipeline}/pause/", "editor", 200, prep=_activate),
    "pipeline-resume": Endpoint("post", W + "/pipelines/{pipeline}/resume/", "editor", 200, prep=_pause),
    "pipeline-rollback": Endpoint(
        "post", W + "/pipelines/{pipeline}/rollback/", "editor", 200, lambda w: {"revision": 1}, prep=_activate_twice
    ),
    "pipeline-archive": Endpoint("post", W + "/pipelines/{pipeline}/archive/", "editor", 200, prep=_activate),
    "pipeline-spec": Endpoint("get", W + "/pipelines/{pipeline}/spec/", "viewer", 200, prep=_activate),
    "pipeline-revisions": Endpoint("get", W + "/pipelines/{pipeline}/revisions/", "viewer", 200, prep=_activate),
    "audit-list": Endpoint("get", W + "/audit-events/", "viewer", 200),
    "audit-retrieve": Endpoint("get", W + "/audit-events/{event}/", "viewer", 200),
}


def _call(client: Any, endpoint: Endpoint, path: str, world: World) -> Any:
    return getattr(client, endpoint.method)(
        path, endpoint.body(world) if endpoint.method != "get" else None, format="json"
    )


def check_endpoint(endpoint: Endpoint, ids: dict[str, Any], world: World, team, client_for, allowed: str) -> None:  # type: ignore[no-untyped-def]
    """Anonymous 401; another workspace's member 404; each lower role 403; the least role (or staff) succeeds."""
    path = endpoint.path.format(ws="acme", **ids)
    foreign_path = endpoint.path.format(ws="globex", **ids)

    anonymous = _call(client_for(None), endpoint, path, world)
    assert anonymous.status_code == 401, anonymous.content
    assert anonymous.json()["error"]["code"] == "not_authenticated"

    stranger = client_for(team.stranger)
    # An object's id under the stranger's own workspace must not find it either.
    names_an_object = "{" in endpoint.path.replace("{ws}", "")
    for attempt in [path, foreign_path] if names_an_object else [path]:
        response = _call(stranger, endpoint, attempt, world)
        assert response.status_code == 404, (attempt, response.content)
        assert response.json()["error"]["code"] == "not_found"

    for role in ROLES[: ROLES.index(endpoint.role)]:
        response = _call(client_for(team.user(role)), endpoint, path, world)
        assert response.status_code == 403, (role, response.content)
        assert response.json()["error"]["code"] == "permission_denied"

    user = team.staff if allowed == "staff" else team.user(endpoint.role)
    response = _call(client_for(user), endpoint, path, world)
    assert response.status_code == endpoint.status, response.content


@pytest.mark.parametrize("allowed", ["least-role", "staff"])
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_endpoint_permissions(name: str, allowed: str, api_world: World, team, client_for) -> None:  # type: ignore[no-untyped-def]
    endpoint = ENDPOINTS[name]
    endpoint.prep(api_world)
    check_endpoint(endpoint, _ids(api_world), api_world, team, client_for, allowed)
