"""Read every published tag back from every registry: it must resolve to the planned index,
that index must list every planned platform, and every platform image's SBOM must be
attached to it there.

The advice for a wrong tag is what will work: publish rewrites a missing or floating tag,
and a version tag moved to a rebuild of the same installers, by itself; a build tag or a
version tag that now names other installers it refuses to move without `--force`
(`bot.release.publish.blocked`, the same rule), so for those the advice says `--force`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import VerifyError
from bot.release.plan import Target
from bot.release.publish import Assembled, blocked
from bot.release.referrers import discover
from bot.release.registry import RegistryClient


@dataclass(frozen=True)
class Check:
    target: Target
    tag: str
    expected: str
    found: str | None
    guarded: bool = False  # publish would refuse to move it back without --force

    @property
    def ok(self) -> bool:
        return self.found == self.expected


def read_back(assembled: Sequence[Assembled], clients: Mapping[str, RegistryClient]) -> list[Check]:
    checks: list[Check] = []
    problems: list[str] = []
    for item in assembled:
        planned = {s.platform for s in item.staged}
        for target in item.image.targets:
            client = clients[target.registry]
            for tag in item.image.all_tags:
                found = client.manifest_digest(target.repository, tag.name)
                guard = blocked(client, target, tag, found, item)
                checks.append(Check(target, tag.name, item.digest, found, guard is not None))
            index = client.get_manifest(target.repository, item.digest)
            listed = {
                f"{m['platform']['os']}/{m['platform']['architecture']}"
                for m in (index.children() if index else [])
                if "platform" in m
            }
            if not planned <= listed:
                problems.append(
                    f"{target.ref}@{item.digest} lists {sorted(listed)}, not {sorted(planned)}"
                )
            problems += _unattached(client, target, item)
    wrong = [c for c in checks if not c.ok]
    problems += [f"{c.target.ref}:{c.tag} -> {c.found}, not {c.expected}" for c in wrong]
    if problems:
        raise VerifyError(
            f"{len(problems)} published tag(s) are wrong: {'; '.join(problems[:5])}",
            _advice([c for c in wrong if c.guarded]),
        )
    return checks


def _unattached(client: RegistryClient, target: Target, item: Assembled) -> list[str]:
    """Each artifact (SBOM) must be findable from its platform image in the registry."""
    problems = []
    for artifact in item.referrers:
        subject = str(artifact.document["subject"]["digest"])
        if artifact.digest not in {
            e["digest"] for e in discover(client, target.repository, subject)
        }:
            problems.append(f"{target.ref}: {artifact.digest} is not attached to {subject}")
    return problems


def _advice(guarded: list[Check]) -> str:
    if not guarded:
        return "rerun `condabot release publish` (it rewrites what differs), then verify again"
    names = ", ".join(f"{c.target.ref}:{c.tag}" for c in guarded[:3])
    return (
        f"{names} {'was' if len(guarded) == 1 else 'were'} moved to another build, and "
        "publish refuses to move an immutable tag back on its own: find out who moved it, "
        "then rerun `condabot release publish --force` to point it at this release again"
    )
