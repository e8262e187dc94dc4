"""The data plane's exception tree: classified errors that route an event, never escape an agent."""

from __future__ import annotations


class SwitchyardError(Exception):
    """Base of every error the data plane raises on purpose."""


class InvalidName(SwitchyardError, ValueError):
    """A workspace, stream or topic name that cannot be used."""


class InvalidSpec(SwitchyardError, ValueError):
    """A pipeline or source spec that does not parse."""


class EventError(SwitchyardError):
    """One event cannot go on; `stage` and `error_type` say where and why (goes to the DLQ)."""

    stage = "unknown"

    def __init__(self, message: str, *, error_type: str, pointer: str | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.pointer = pointer


class ValidationFailed(EventError):
    """The event does not satisfy the pipeline's JSON Schema."""

    stage = "validate"


class TransformFailed(EventError):
    """The JSONata mapping failed to compile or evaluate for this event."""

    stage = "transform"


class DeliveryFailed(EventError):
    """The destination refused the event or could not be reached."""

    stage = "deliver"

    def __init__(
        self, message: str, *, error_type: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, error_type=error_type)
        # None: permanent (the destination said no); a number: retryable after that many seconds.
        self.retry_after = retry_after
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.retry_after is not None
