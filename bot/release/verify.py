"""Read every published tag back from every registry: it must resolve to the planned index,
and that index must list every planned platform."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import VerifyError
from bot.release.plan import Target
from bot.release.publish import Assembled
from bot.release.registry import Registry


@dataclass(frozen=True)
class Check:
    target: Target
    tag: str
    expected: str
    found: str | None

    @property
    def ok(self) -> bool:
        return self.found == self.expected


def read_back(assembled: Sequence[Assembled], clients: Mapping[str, Registry]) -> list[Check]:
    checks: list[Check] = []
    problems: list[str] = []
    for item in assembled:
        planned = {s.platform for s in item.staged}
        for target in item.image.targets:
            client = clients[target.registry]
            for tag in item.image.tags:
                found = client.manifest_digest(target.repository, tag.name)
                checks.append(Check(target, tag.name, item.digest, found))
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
    problems += [
        f"{c.target.ref}:{c.tag} -> {c.found}, not {c.expected}" for c in checks if not c.ok
    ]
    if problems:
        raise VerifyError(
            f"{len(problems)} published tag(s) are wrong: {'; '.join(problems[:5])}",
            "rerun `condabot release publish` (it rewrites what differs), then verify again",
        )
    return checks
