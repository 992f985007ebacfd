"""What a service refuses, and why: one hierarchy for every feature.

Services raise these with messages keyed by the form field they concern ("form" for the
whole form); they never name an HTTP status. The web layer maps each kind to its status
in one place (``webapp/web/errors.py``).
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request a service refuses; ``errors`` maps form fields to messages."""

    def __init__(self, errors: dict[str, str] | str) -> None:
        self.errors = {"form": errors} if isinstance(errors, str) else errors
        super().__init__("; ".join(self.errors.values()))

    @property
    def message(self) -> str:
        """All the messages in one line (the form-wide one first)."""
        return str(self)


class Invalid(ServiceError):
    """The input breaks a rule (a field is missing, too long, out of range...)."""


class Malformed(ServiceError):
    """The input cannot even be read (an upload that is not text, a damaged file)."""


class TooLarge(ServiceError):
    """The input is larger than allowed."""


class NotFound(ServiceError):
    """There is no such thing, or the caller may not know that there is."""


class Conflict(ServiceError):
    """The thing exists but its state does not allow this now (already submitted, time is up...)."""


class Forbidden(ServiceError):
    """The caller may see the thing but not do this to it."""

    def __init__(self, errors: dict[str, str] | str = "You do not have permission to do that.") -> None:
        super().__init__(errors)


class RateLimited(ServiceError):
    """Too many of these too quickly; ``retry_after`` seconds until the next one is accepted."""

    def __init__(self, errors: dict[str, str] | str, *, retry_after: int | None = None) -> None:
        super().__init__(errors)
        self.retry_after = retry_after
