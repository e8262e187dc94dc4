"""Application errors of the control plane: each has a stable code and a message that says what to fix."""

from __future__ import annotations


class ApplicationError(Exception):
    """Base of errors the services raise on purpose; `code` is stable, `message` is for people."""

    code = "application_error"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationError(ApplicationError):
    """The input cannot be saved as given."""

    code = "invalid"


class KafkaUnavailable(ApplicationError):
    """Kafka did not answer in time; nothing was changed."""

    code = "kafka_unavailable"
