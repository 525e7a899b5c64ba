"""One error hierarchy; each class owns a distinct process exit code.

Messages are one line: what failed, then what to do. They never carry secrets:
anything that could hold a token goes through `bot.secrets.redact` first.
"""

from __future__ import annotations


class CondabotError(Exception):
    """Base of every error the CLI turns into an exit code."""

    exit_code = 1

    def __init__(self, what: str, hint: str = "") -> None:
        self.what = what
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        from bot.secrets import redact

        text = f"{self.what}; {self.hint}" if self.hint else self.what
        return redact(" ".join(text.split()))


class UsageError(CondabotError):
    """The command line or its environment is wrong."""

    exit_code = 2


class CatalogError(CondabotError):
    """dockerfiles/images.yaml is missing or invalid."""

    exit_code = 3


class UpstreamUnavailable(CondabotError):
    """The upstream listing could not be fetched after every retry."""

    exit_code = 4


class ListingError(CondabotError):
    """The upstream listing was fetched but is not a usable listing."""

    exit_code = 5


class DockerfileError(CondabotError):
    """A Dockerfile's installer pins cannot be read or rewritten."""

    exit_code = 6


class PlanError(CondabotError):
    """The update or release plan cannot be made from its inputs."""

    exit_code = 7


class ForgeError(CondabotError):
    """The GitHub API refused or failed a request."""

    exit_code = 8


class RateLimited(ForgeError):
    """GitHub's rate limit is exhausted beyond what we are willing to wait."""

    exit_code = 9


class BuildError(CondabotError):
    """An image failed to build or failed its smoke test."""

    exit_code = 10


class PublishError(CondabotError):
    """A registry refused or failed a push."""

    exit_code = 11


class TagConflict(PublishError):
    """An immutable tag already points at another digest."""

    exit_code = 12


class VerifyError(CondabotError):
    """A published tag does not resolve to the planned digest."""

    exit_code = 13


class ReleaseTagError(CondabotError):
    """A release tag names no image, or a version the Dockerfiles do not pin."""

    exit_code = 14


class AuthError(CondabotError):
    """Credentials are missing or were refused."""

    exit_code = 15


class UpstreamRefused(CondabotError):
    """Upstream answered with a final refusal (404, 401, 403, a redirect nowhere sane).

    Not transient: rerunning will not help until the mirror URL or its credentials change.
    """

    exit_code = 16


class NeedsReview(CondabotError):
    """`bump --local` would apply a change a human must look at (changed installer bytes,
    a flavour change, a dropped arch, a stale hash, an installer that failed verification).
    """

    exit_code = 17
