"""Domain errors: every shell (CLI, API, pages) renders these as one clear message."""

from __future__ import annotations


class AwdaError(Exception):
    """Base of every error a user may see; `str()` is the message shown to them."""

    status = 400
    title = "Bad request"


class ValidationFailed(AwdaError):
    """Input broke a rule; names the field (and the row, for files)."""

    status = 422
    title = "Invalid input"

    def __init__(self, field: str, message: str, row: int | None = None) -> None:
        self.field = field
        self.row = row
        self.message = message
        where = f"row {row}, " if row is not None else ""
        super().__init__(f"{where}{field}: {message}")


class NotFound(AwdaError):
    status = 404
    title = "Not found"


class PermissionDenied(AwdaError):
    status = 403
    title = "Forbidden"


class AuthenticationFailed(AwdaError):
    status = 401
    title = "Unauthorized"


class Conflict(AwdaError):
    """The write conflicts with the stored state (for example an illegal status change)."""

    status = 409
    title = "Conflict"


class StaleVersion(AwdaError):
    """The client's copy is out of date: it must re-read before writing (HTTP 412)."""

    status = 412
    title = "Precondition failed"

    def __init__(self, message: str, current_version: int | None = None) -> None:
        self.current_version = current_version  # sent back (ETag) so the client can re-read and retry
        super().__init__(message)


class PreconditionRequired(AwdaError):
    status = 428
    title = "Precondition required"


class TooManyAttempts(AwdaError):
    """Too many failed attempts from this name or address: refused until `retry_after` seconds have passed."""

    status = 429
    title = "Too many attempts"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        minutes = -(-self.retry_after // 60)
        super().__init__(f"too many failed attempts; try again in {minutes} minute(s)")


class ConfigurationError(AwdaError):
    """Settings or keys are missing or unsafe; the program refuses to start."""

    status = 500
    title = "Configuration error"
