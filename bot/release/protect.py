"""Tag immutability enforced by the registry itself, where it can be: ECR. The bot's own
guard (`bot.release.publish.blocked`) stays for every registry.

The rule the registry can hold: **build tags never move** (`26.5.3-1_build2`; only they
contain `_build`, since catalog suffixes and Python lines cannot). Version tags move to a
rebuild of the same installers and floating tags move forward, so those must stay mutable.

ECR expresses this as `MUTABLE_WITH_EXCLUSION` with the one wildcard filter `*_build*`
(every tag mutable except the build tags). The other way round, `IMMUTABLE_WITH_EXCLUSION`
listing the mutable tags, cannot be written: ECR takes at most five filters whose only
wildcard is `*`, and the mutable tags (every line's and variant's version and floating
tags) match no five patterns that spare `26.5.3-1_build2` while catching `26.5.3-1`.

Docker Hub's equivalent is a repository setting without an API the bot can rely on
(Settings > General > Tag mutability settings > "Specific tags are immutable", rule
`.*_build[0-9]+.*`), set once by a maintainer; see README. ECR Public has no tag
mutability setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.errors import AuthError, PublishError
from bot.release.plan import ReleasePlan, Target
from bot.release.tags import BUILD_MARK

MUTABILITY = "MUTABLE_WITH_EXCLUSION"
BUILD_TAG_FILTERS = ({"filterType": "WILDCARD", "filter": f"*{BUILD_MARK}*"},)


@dataclass(frozen=True)
class Protection:
    target: Target
    before: str  # the setting found: "MUTABLE", ..., or "created"
    changed: bool

    def __str__(self) -> str:
        if not self.changed:
            return f"{self.target.ref}: build tags already immutable ({MUTABILITY} *_build*)"
        verb = "created with" if self.before == "created" else f"{self.before} ->"
        return f"{self.target.ref}: {verb} {MUTABILITY}, build tags (*_build*) immutable"


def ecr_targets(plan: ReleasePlan) -> list[Target]:
    seen: dict[str, Target] = {}
    for image in plan.images:
        for target in image.targets:
            if target.kind == "ecr":
                seen.setdefault(target.ref, target)
    return list(seen.values())


def protect(plan: ReleasePlan, env: Mapping[str, str] | None = None) -> list[Protection]:
    """Make every ECR repository of the plan hold its build tags immutable; a repository
    that does not exist yet is created so. Idempotent: a repository already set is left
    alone (one describe call)."""
    env = os.environ if env is None else env
    return [_protect(target, env) for target in ecr_targets(plan)]


def _protect(target: Target, env: Mapping[str, str]) -> Protection:
    from bot.release.credentials import ecr_client, ecr_registry_id

    client = ecr_client(target.host, env)
    ids = ecr_registry_id(target.host)
    wanted: dict[str, Any] = {
        "imageTagMutability": MUTABILITY,
        "imageTagMutabilityExclusionFilters": [dict(f) for f in BUILD_TAG_FILTERS],
    }
    try:
        try:
            found = client.describe_repositories(**ids, repositoryNames=[target.repository])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "RepositoryNotFoundException":
                raise
            client.create_repository(**ids, repositoryName=target.repository, **wanted)
            return Protection(target, "created", True)
        current = found["repositories"][0]
        if _same(current, wanted):
            return Protection(target, current["imageTagMutability"], False)
        client.put_image_tag_mutability(**ids, repositoryName=target.repository, **wanted)
        return Protection(target, str(current.get("imageTagMutability", "MUTABLE")), True)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = f"ECR refused to set tag mutability of {target.ref}: {code}"
        if "AccessDenied" in code:
            raise AuthError(
                message,
                "allow the job's role ecr:DescribeRepositories, ecr:PutImageTagMutability "
                "and ecr:CreateRepository on the repository",
            ) from exc
        raise PublishError(message, "rerun; the setting is idempotent") from exc
    except BotoCoreError as exc:
        raise PublishError(
            f"ECR could not be reached for {target.ref}: {type(exc).__name__}", "rerun"
        ) from exc


def _same(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    filters = current.get("imageTagMutabilityExclusionFilters") or []
    return current.get("imageTagMutability") == wanted["imageTagMutability"] and sorted(
        (f.get("filterType"), f.get("filter")) for f in filters
    ) == sorted(
        (f["filterType"], f["filter"]) for f in wanted["imageTagMutabilityExclusionFilters"]
    )
