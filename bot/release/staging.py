"""Where built platform images wait for publishing: `<staging>/<image>:build-<revision>-<arch>`
(a rebuild: `build-<revision>-build<N>-<arch>`), each with its SBOM attached.

Build jobs push there by digest; the publish job reads only from there. A staging tag names
the revision and the build, so a rerun finds what was already built and builds nothing
twice, and a rebuild of the same commit is built anew.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from bot.errors import UsageError
from bot.release.plan import ImageRelease, PlatformBuild

_STAGING = re.compile(
    r"^(?P<host>[A-Za-z0-9.-]+(?::\d+)?|\[::1\](?::\d+)?)(?:/(?P<ns>[a-z0-9._/-]+))?$"
)


@dataclass(frozen=True)
class Staging:
    host: str
    namespace: str

    @classmethod
    def parse(cls, text: str | None) -> Staging:
        text = (text or os.environ.get("CONDABOT_STAGING", "")).strip().rstrip("/")
        match = _STAGING.fullmatch(text)
        if not match:
            raise UsageError(
                f"staging registry {text!r} is not HOST[:PORT][/NAMESPACE]",
                "pass --staging or set CONDABOT_STAGING, e.g. ghcr.io/owner/condabot-staging",
            )
        return cls(match["host"], match["ns"] or "")

    def repository(self, image: ImageRelease) -> str:
        return f"{self.namespace}/{image.name}" if self.namespace else image.name

    @staticmethod
    def tag(revision: str, platform: PlatformBuild, build: int = 1) -> str:
        number = f"build{build}-" if build > 1 else ""
        return f"build-{revision}-{number}{platform.oci_arch}"
