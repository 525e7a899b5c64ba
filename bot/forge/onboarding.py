"""The onboarding pull request: a repository without a catalog is offered the one the bot
discovered (as `condabot init` writes it), once. Pure.

It is a group like the others (branch `condabot/onboarding`) with a target that never
changes, so the lifecycle rules give the promises for free: regenerated while open when the
Dockerfiles imply another catalog; closed unmerged, that target is declined and never
proposed again (reopening it undoes that); merged, the catalog exists and nothing more is
offered.
"""

from __future__ import annotations

import hashlib

from bot.forge.model import FileChange, GroupUpdate

GROUP = "onboarding"
TARGET = "the image catalog"
TITLE = "chore(condabot): add the image catalog"


def onboarding_update(path: str, text: str, images: int, skipped: tuple[str, ...]) -> GroupUpdate:
    """The PR adding `text` (the discovered catalog) at `path`."""
    content = text.encode()
    lines = [
        "condabot found no image catalog in this repository, so it works from the Dockerfiles "
        f"that pin Miniconda or Anaconda installers: {images} image(s), with the default "
        "policy (follow upstream's default Python flavour, changes flagged; no minimum "
        "release age; one pull request per Dockerfile).",
        f"This pull request adds that catalog as `{path}`, every default spelled out and "
        "commented, so you can edit the policy (a Python line, `min_release_age`, reviewers) "
        "and add the registries a release publishes to. condabot proposes the same changes "
        "with it as without it.",
        "Close it without merging and condabot keeps working without a catalog and never "
        "proposes it again (reopen it to undo that).",
    ]
    if skipped:
        lines.append(
            "Dockerfiles that mention an installer whose pins condabot cannot read (not in "
            "the catalog):\n" + "\n".join(f"- `{s}`" for s in skipped)
        )
    return GroupUpdate(
        group=GROUP,
        title=TITLE,
        body="\n\n".join(lines),
        target=TARGET,
        digest=hashlib.sha256(path.encode() + b"\0" + content).hexdigest()[:16],
        files=(FileChange(path, content),),
    )
