"""The GitHub release a release tag belongs to: is it published, a draft, a prerelease?

A release event carries this; a manual run of the workflow (workflow_dispatch) has only the
tag, so it asks GitHub, through the forge's one connection (`bot.forge.github`: its retries,
pacing and error mapping). A tag with no published release, or whose release is a draft, is
never released: drafts have no tag yet, so the by-tag lookup misses them and the first page
of releases (drafts included, for a token that may see them) tells which it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from github import UnknownObjectException

from bot.errors import ReleaseTagError
from bot.forge.github import DEFAULT_API, calling, connect


@dataclass(frozen=True)
class ReleaseState:
    draft: bool
    prerelease: bool
    repository_url: str | None


def release_state(
    repository: str, tag: str, token: str, api_url: str | None = None
) -> ReleaseState:
    doing = f"reading release {tag} of {repository}"
    with connect(token, api_url or DEFAULT_API) as client, calling(doing, "`contents: read`"):
        repo = client.get_repo(repository)
        try:
            release = repo.get_release(tag)
        except UnknownObjectException as exc:
            if any(r.draft and r.tag_name == tag for r in repo.get_releases().get_page(0)):
                return ReleaseState(True, False, repo.html_url)
            raise ReleaseTagError(
                f"{repository} has no published release tagged {tag}",
                "publish the GitHub release first: only a published release is released",
            ) from exc
        return ReleaseState(release.draft, release.prerelease, repo.html_url)
