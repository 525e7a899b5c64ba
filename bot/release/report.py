"""The release report: a markdown section for the job summary and the GitHub release body.

The section sits between two HTML comments; a rerun replaces it in place, so the release
body never gathers duplicates, and text maintainers wrote around it is kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.forge.github import DEFAULT_API, calling, connect
from bot.release.plan import ReleasePlan, Target
from bot.release.publish import Assembled, ImageOutcome
from bot.release.tags import TagKind
from bot.release.verify import Check

BEGIN = "<!-- condabot:release-report:begin -->"
END = "<!-- condabot:release-report:end -->"


def render(plan: ReleasePlan, outcomes: Sequence[ImageOutcome], checks: Sequence[Check]) -> str:
    verified = {(c.target.ref, c.tag) for c in checks if c.ok}
    lines = [
        BEGIN,
        f"## Published images: {plan.tag}",
        "",
        f"Version `{plan.version}`, build {plan.build}, revision `{plan.revision[:12]}`, "
        f"created {plan.created}.",
    ]
    if plan.prerelease:
        lines += ["", "Prerelease: only build and version tags were written; no floating tag."]
    for outcome in outcomes:
        lines += _image_section(outcome, verified)
    lines += ["", END]
    return "\n".join(lines) + "\n"


def _image_section(outcome: ImageOutcome, verified: set[tuple[str, str]]) -> list[str]:
    item = outcome.assembled
    image = item.image
    targets = [t.target for t in outcome.targets]
    platforms = ", ".join(f"`{p}` (`{d}`)" for p, d in item.platform_digests())
    lines = ["", f"### {image.name}", "", f"Index `{item.digest}`; platforms: {platforms}.", ""]
    lines.append("| tag | " + " | ".join(t.registry for t in targets) + " |")
    lines.append("|---|" + "---|" * len(targets))
    for tag in image.all_tags:
        cells = [
            f"`{item.digest[:19]}…` {'✓' if (t.ref, tag.name) in verified else '✗'}"
            for t in targets
        ]
        kind = "" if tag.kind is TagKind.FLOATING else f" ({tag.kind.value})"
        lines.append(f"| `{tag.name}`{kind} | " + " | ".join(cells) + " |")
    if image.held:
        held = ", ".join(f"`{tag}` ({why})" for tag, why in image.held)
        lines += ["", f"Not moved: {held}."]
    first = image.all_tags[0].name
    lines += ["", "```sh"]
    lines += [f"docker pull {t.pull_name}:{first}" for t in targets]
    lines += [f"docker pull {targets[0].pull_name}@{item.digest}", "```"]
    return lines + _sbom_lines(item, targets)


def _sbom_lines(item: Assembled, targets: Sequence[Target]) -> list[str]:
    """Each platform's SBOM and the command that fetches it (ORAS writes sbom.cdx.json)."""
    sboms = item.sboms()
    if not sboms:
        return []
    lines = ["", "SBOMs (CycloneDX JSON, attached to each platform image in every registry):", ""]
    for platform, manifest in sboms:
        lines.append(f"- `{platform}`: `{manifest.digest}`")
    lines += ["", "```sh"]
    for target in targets:
        lines += [f"oras pull {target.ref}@{manifest.digest}" for _, manifest in sboms]
    lines.append("```")
    return lines


# A section: BEGIN, then text holding no other BEGIN, then END. A marker a maintainer quoted
# above the section is text to keep, not the start of the section.
_SECTION = re.compile(f"{re.escape(BEGIN)}(?:(?!{re.escape(BEGIN)}).)*?{re.escape(END)}\n?", re.S)


def merge_section(body: str | None, section: str) -> str:
    """`body` with the report section replaced, or appended when it has none."""
    body = body or ""
    merged, found = _SECTION.subn(lambda _: section, body, count=1)
    if found:
        return merged
    return body.rstrip("\n") + "\n\n" + section if body.strip() else section


def update_release_body(
    section: str, repository: str, tag: str, token: str, api_url: str | None = None
) -> bool:
    """Put the section into the release's body; False if it was already there as is."""
    doing = f"writing the report into release {tag} of {repository}, after publishing the images"
    with connect(token, api_url or DEFAULT_API) as client, calling(doing, "`contents: write`"):
        release = client.get_repo(repository).get_release(tag)
        body = merge_section(release.body, section)
        if body == (release.body or ""):
            return False
        release.update_release(
            name=release.name or tag,
            message=body,
            draft=release.draft,
            prerelease=release.prerelease,
        )
    return True
