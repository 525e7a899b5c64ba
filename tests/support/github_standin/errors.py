"""GitHub's error responses: ``{"message", "documentation_url", "status"[, "errors"]}``."""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """Raised by a handler; the server turns it into GitHub's JSON error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        documentation_url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def body(self, default_doc: str) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            data["errors"] = self.errors
        data["documentation_url"] = self.documentation_url or default_doc
        data["status"] = str(self.status)
        return data


def not_found(message: str = "Not Found") -> ApiError:
    return ApiError(404, message)


def unprocessable(message: str) -> ApiError:
    """A 422 with only a message (the git-data endpoints answer this way)."""
    return ApiError(422, message)


def validation_failed(*errors: dict[str, Any]) -> ApiError:
    """GitHub's 'Validation Failed' 422 with an ``errors`` array."""
    return ApiError(422, "Validation Failed", errors=list(errors))


def custom(resource: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"resource": resource, "code": "custom"}
    if field is not None:
        error["field"] = field
    error["message"] = message
    return error


def invalid(resource: str, field: str, code: str = "invalid", **extra: Any) -> dict[str, Any]:
    return {"resource": resource, "field": field, "code": code, **extra}


def missing_param(name: str) -> ApiError:
    """What GitHub answers when a required body parameter is absent."""
    return ApiError(422, f'Invalid request.\n\n"{name}" wasn\'t supplied.')


def wrong_type(name: str, value: Any, expected: str) -> ApiError:
    shown = "nil" if value is None else repr(value)
    return ApiError(422, f"Invalid request.\n\nFor 'properties/{name}', {shown} is not {expected}.")
