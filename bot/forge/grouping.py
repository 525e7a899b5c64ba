"""From the update plan to one desired PR per group: files, title, body. Pure.

A group is one image by default; the catalog's `bot.group: product` puts every image
of a product in one PR.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from bot.catalog import Catalog, Image
from bot.forge.model import FileChange, GroupUpdate, PullRequest
from bot.planner import ImagePlan, Kind, PinChange, Plan

WARNINGS = {
    Kind.FLAVOUR_CHANGE: "**Python flavour change**: this update moves the image from "
    "{from_python} to {to_python}. Check that your environments still resolve before merging.",
    Kind.DROP_ARCH: "**Architecture dropped**: upstream has no installer for {dropped} at this "
    "version. Merging removes it from the Dockerfile and from the catalog's platforms.",
    Kind.CHECKSUM_CHANGED: "**Checksum changed upstream** for a file of the same name. Upstream "
    "replaced the bytes; confirm with Anaconda before merging.",
    Kind.STALE_HASH: "**Stale checksum fixed**: a pinned sha256 did not match its file upstream.",
    Kind.MIXED_VERSIONS: "**Mixed versions fixed**: the arches were pinned at different releases.",
}


def group_key(image: Image, catalog: Catalog) -> str:
    """Images whose pins live in one file (a Dockerfile, or a Python line's pins file)
    always share a PR: the first such image names it."""
    if image.bot.group == "product":
        return image.product.value
    return next(i.name for i in catalog.images if i.pin_file == image.pin_file)


def group_plans(plan: Plan, catalog: Catalog) -> dict[str, Plan]:
    """Each group's share of the plan, by group key: its images that change something."""
    groups: dict[str, list[ImagePlan]] = {}
    for image_plan in plan.with_changes():
        key = group_key(catalog.image(image_plan.image), catalog)
        groups.setdefault(key, []).append(image_plan)
    return {key: Plan(plan.now, tuple(members)) for key, members in sorted(groups.items())}


def group_updates(
    groups: Mapping[str, Plan], edits: Mapping[str, Iterable[tuple[str, str]]], catalog: Catalog
) -> list[GroupUpdate]:
    """One update per group of `group_plans`; `edits[group]`: the (path, new text) pairs that
    apply the group's plan, computed once by the caller (they read the files)."""
    updates = []
    for group, sub in groups.items():
        members = sub.images
        files = tuple(FileChange(path, text.encode()) for path, text in sorted(edits[group]))
        images = [catalog.image(m.image) for m in members]
        updates.append(
            GroupUpdate(
                group=group,
                title=title(group, members),
                body=body(members),
                target=";".join(f"{m.image}={m.to_label}" for m in members),
                digest=_digest(files),
                files=files,
                labels=_union(i.bot.labels for i in images),
                reviewers=_union(i.bot.reviewers for i in images),
                assignees=_union(i.bot.assignees for i in images),
                pins=_pins(members),
            )
        )
    return updates


def _pins(members: Sequence[ImagePlan]) -> tuple[tuple[str, str], ...]:
    found = {(c.to_url, c.to_sha) for m in members for c in m.changes if c.to_url and c.to_sha}
    return tuple(sorted(found))


CHECKSUM_MARK = " [checksum changed upstream]"


def flag_changed_checksums(update: GroupUpdate, pr: PullRequest | None) -> GroupUpdate:
    """An installer the open PR proposes got new bytes upstream under the same name: say it
    in the title, the body and (through `alarms`) the dashboard, as loudly as for a pin.

    The warning stays while the PR proposes the same target, so one run cannot bury it.
    """
    if pr is None or pr.metadata is None:
        return update
    before = dict(pr.metadata.pins)
    alarms = tuple(
        f"{Kind.CHECKSUM_CHANGED.tag} under #{pr.number}: {_file(url)} was {before[url][:16]}…, "
        f"is now {sha[:16]}…"
        for url, sha in update.pins
        if url in before and before[url] != sha
    )
    if not alarms and pr.metadata.target == update.target:
        alarms = pr.metadata.alarms
    if not alarms:
        return update
    warning = "\n".join(
        ["> [!WARNING]", "> **Checksum changed upstream while this PR was open.** Upstream "
         "replaced the bytes of a file this PR proposes; confirm with Anaconda before merging.",
         *(f"> - {a.split(': ', 1)[1]}" for a in alarms)]
    )  # fmt: skip
    return dataclasses.replace(
        update,
        title=update.title.removesuffix(CHECKSUM_MARK) + CHECKSUM_MARK,
        body=f"{warning}\n\n{update.body}",
        alarms=alarms,
    )


def title(group: str, members: Sequence[ImagePlan]) -> str:
    first = members[0]
    same = all((m.from_python, m.to_python, m.to_version) == (first.from_python, first.to_python,
               first.to_version) for m in members)  # fmt: skip
    if not same:
        return f"chore(deps): update {group} installers"
    flavour = first.to_python or ""
    if first.from_python and first.to_python and first.from_python != first.to_python:
        flavour = f"{first.from_python} to {first.to_python}"
    what = f"{group} ({flavour})" if flavour else group
    return f"chore(deps): update {what} to {first.to_version or first.from_version}"


def body(members: Sequence[ImagePlan]) -> str:
    """One section per Dockerfile, naming every image built from it."""
    by_file: dict[str, list[ImagePlan]] = {}
    for m in members:
        by_file.setdefault(m.dockerfile, []).append(m)
    return "\n\n".join(_image_section(ms) for ms in by_file.values())


def _image_section(images: Sequence[ImagePlan]) -> str:
    m = images[0]
    names = ", ".join(f"`{i.image}`" for i in images)
    lines = [f"### {names}: {m.from_label} → {m.to_label}", f"`{m.dockerfile}`"]
    for kind in m.flags:
        if kind in WARNINGS:
            dropped = ", ".join(c.arch for c in m.changes if c.to_url is None) or "-"
            text = WARNINGS[kind].format(
                from_python=m.from_python, to_python=m.to_python, dropped=dropped
            )
            lines.append(f"> [!WARNING]\n> {text}")
    lines.append(_table(m.changes))
    released = _release_date(m.changes)
    if released:
        lines.append(f"Released upstream on {released}.")
    # A warning block above says what its kind's notes would: each warning is said once.
    lines.extend(f"- {n.text}" for n in m.notes if n.loud and n.kind not in WARNINGS)
    return "\n\n".join(lines)


def _table(changes: Sequence[PinChange]) -> str:
    rows = ["| arch | from | to | sha256 | size |", "|---|---|---|---|---|"]
    for c in changes:
        to = f"[{_file(c.to_url)}]({c.to_url})" if c.to_url else "removed"
        sha = f"`{c.to_sha[:16]}…`" if c.to_sha else "-"
        size = _size(c.size) if c.size else "-"
        was = f"`{_file(c.from_url)}`" if c.from_url else "(none: first pins)"
        rows.append(f"| {c.arch} | {was} | {to} | {sha} | {size} |")
    return "\n".join(rows)


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def _release_date(changes: Sequence[PinChange]) -> str | None:
    times = [c.mtime for c in changes if c.mtime]
    return datetime.fromtimestamp(max(times), UTC).strftime("%Y-%m-%d") if times else None


def _file(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def _digest(files: Sequence[FileChange]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.path.encode() + b"\0" + (f.content or b"") + b"\0")
    return h.hexdigest()[:16]


def _union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)
