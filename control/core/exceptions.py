"""Application errors of the control plane: each has a stable code and a message that says what to fix."""

from __future__ import annotations


class ApplicationError(Exception):
    """Base of errors the services raise on purpose; `code` is stable, `message` is for people."""

    code = "application_error"
    status = 400

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationError(ApplicationError):
    """The input cannot be saved as given; `details` maps field names to messages."""

    code = "invalid"


class IncompatibleSchema(ValidationError):
    """A new schema version breaks the schema's compatibility mode."""

    code = "incompatible_schema"


class InvalidExpression(ValidationError):
    """A JSONata expression does not compile."""

    code = "invalid_expression"


class NotFound(ApplicationError):
    """The object does not exist, or belongs to a workspace the caller cannot see."""

    code = "not_found"
    status = 404


class PermissionDenied(ApplicationError):
    """The caller can see the object but their role does not allow this action."""

    code = "permission_denied"
    status = 403


class Conflict(ApplicationError):
    """The change clashes with the current state (a duplicate name, an object still in use, a wrong state)."""

    code = "conflict"
    status = 409


class KafkaUnavailable(ApplicationError):
    """Kafka did not answer in time; nothing was changed."""

    code = "kafka_unavailable"
    status = 503
