"""Writes for destinations: URL guard, auth consistency, secrets encrypted before they touch the database."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError

from control.audit.services import audit_record, snapshot
from control.core.exceptions import Conflict, ValidationError
from control.core.services import model_assign
from control.core.validation import full_clean
from control.destinations.choices import AuthType
from control.destinations.models import Destination
from control.destinations.url_guard import url_problem
from control.workspaces.models import Workspace
from streams.secrets import encrypt

DESTINATION_FIELDS = (
    "name",
    "description",
    "url",
    "method",
    "headers",
    "timeout_s",
    "auth_type",
    "auth_username",
    "auth_secret_enc",
    "signing_secret_enc",
    "retry_schedule_s",
    "max_concurrency",
    "circuit_failure_threshold",
)
UPDATABLE = tuple(f for f in DESTINATION_FIELDS if f not in ("name", "auth_secret_enc", "signing_secret_enc"))
# Headers the worker sets itself: a destination must not override them.
RESERVED_HEADERS = {"content-type", "content-length", "host", "idempotency-key", "authorization", "x-correlation-id"}
MAX_RETRY_DELAY_S = 7 * 24 * 3600


def _check(destination: Destination) -> None:
    full_clean(destination, exclude=["workspace"])
    problem = url_problem(destination.url)
    if problem:
        raise ValidationError(f"url: {problem}", details={"url": [problem]})
    headers = destination.headers
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ValidationError("headers must map names to strings", details={"headers": ['Use {"Name": "value"}.']})
    reserved = sorted(k for k in headers if k.lower() in RESERVED_HEADERS or "\n" in k + "".join(headers.values()))
    if reserved:
        raise ValidationError(
            f"headers {', '.join(reserved)} are set by the platform",
            details={"headers": [f"Remove {', '.join(reserved)}."]},
        )
    schedule = destination.retry_schedule_s
    if (
        not isinstance(schedule, list)
        or len(schedule) > 20
        or not all(
            isinstance(s, int | float) and not isinstance(s, bool) and 0 < s <= MAX_RETRY_DELAY_S for s in schedule
        )
    ):
        raise ValidationError(
            "retry_schedule_s must be a list of up to 20 delays in seconds, each above 0 and at most 7 days",
            details={"retry_schedule_s": ["Use a list like [5, 30, 120]."]},
        )
    if destination.auth_type == AuthType.NONE and (destination.auth_username or destination.auth_secret_enc):
        raise ValidationError("auth type none takes no credentials", details={"auth_type": ["Choose basic or bearer."]})
    if destination.auth_type == AuthType.BASIC and not (destination.auth_username and destination.auth_secret_enc):
        raise ValidationError(
            "basic auth needs a username and a password", details={"auth_secret": ["Required for basic auth."]}
        )
    if destination.auth_type == AuthType.BEARER and not destination.auth_secret_enc:
        raise ValidationError("bearer auth needs a token", details={"auth_secret": ["Required for bearer auth."]})


def destination_create(
    *,
    workspace: Workspace,
    name: str,
    url: str,
    actor: Any = None,
    auth_secret: str = "",
    signing_secret: str = "",
    **options: Any,
) -> Destination:
    """`options`: description, method, headers, timeout_s, auth_type, auth_username, retry_schedule_s, limits."""
    if Destination.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(
            f"destination {name!r} already exists in {workspace.slug}", details={"name": ["Already exists."]}
        )
    destination = Destination(workspace=workspace, name=name, url=url, **options)
    destination.auth_secret_enc = encrypt(auth_secret)
    destination.signing_secret_enc = encrypt(signing_secret)
    _check(destination)
    with transaction.atomic():
        destination.save()
        audit_record(
            actor=actor,
            workspace=workspace,
            action="destination.create",
            obj=destination,
            after=snapshot(destination, DESTINATION_FIELDS),
        )
    return destination


def destination_update(
    *,
    destination: Destination,
    actor: Any,
    data: dict[str, Any],
    auth_secret: str | None = None,
    signing_secret: str | None = None,
) -> Destination:
    """A secret given as None is kept; "" clears it. Pipelines pick the change up at their next activation."""
    before = snapshot(destination, DESTINATION_FIELDS)
    model_assign(instance=destination, fields=UPDATABLE, data=data)
    replaced = []
    if auth_secret is not None:
        destination.auth_secret_enc = encrypt(auth_secret)
        replaced.append("auth_secret_enc")
    if signing_secret is not None:
        destination.signing_secret_enc = encrypt(signing_secret)
        replaced.append("signing_secret_enc")
    if destination.auth_type == AuthType.NONE and "auth_type" in data and auth_secret is None:
        destination.auth_secret_enc, destination.auth_username = "", ""  # switching auth off drops the credentials
    _check(destination)
    with transaction.atomic():
        destination.save()
        audit_record(
            actor=actor,
            workspace=destination.workspace,
            action="destination.update",
            obj=destination,
            before=before,
            after=snapshot(destination, DESTINATION_FIELDS),
            replaced_secrets=replaced,
        )
    return destination


def destination_delete(*, destination: Destination, actor: Any) -> None:
    if destination.pipelines.exists():
        names = sorted(str(p) for p in destination.pipelines.all())
        raise Conflict(
            f"destination {destination} is used by {', '.join(names)}; remove it from them first",
            details={"pipelines": names},
        )
    try:
        with transaction.atomic():
            audit_record(
                actor=actor,
                workspace=destination.workspace,
                action="destination.delete",
                obj=destination,
                before=snapshot(destination, DESTINATION_FIELDS),
            )
            destination.delete()
    except ProtectedError as exc:
        raise Conflict(f"destination {destination} is still in use") from exc
