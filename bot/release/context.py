"""Everything a release command needs to know, gathered from its edges: the GitHub event
(or the release itself, read from GitHub's API), the git checkout (revision, commit time,
existing release tags, the remote the source label comes from) and the catalog."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot import git
from bot.catalog import load_catalog
from bot.errors import BuildError, ReleaseTagError, UsageError
from bot.release.pinned import read_pinned
from bot.release.plan import ReleasePlan, make_plan
from bot.release.tagname import resolve_tag, shown

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_SHA = re.compile(r"^[0-9a-f]{40}$")
SOURCE_LABEL = "org.opencontainers.image.source"


@dataclass(frozen=True)
class Event:
    tag: str | None
    target_commitish: str | None
    published_at: str | None
    repository: str | None  # owner/name
    html_url: str | None
    prerelease: bool = False
    draft: bool = False

    @classmethod
    def load(cls, path: str | None, env: Mapping[str, str]) -> Event:
        path = path or (
            env.get("GITHUB_EVENT_PATH")
            if env.get("GITHUB_EVENT_NAME") in (None, "release")
            else None
        )
        if not path:
            return cls(None, None, None, env.get("GITHUB_REPOSITORY"), None)
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise UsageError(
                f"cannot read the event {path}: {exc}", "pass a release event"
            ) from exc
        try:
            return cls.parse(document, env.get("GITHUB_REPOSITORY"))
        except _WrongShape as exc:
            raise UsageError(
                f"the event {path} is not a GitHub release event: {exc}",
                "pass the JSON of a release event (as in $GITHUB_EVENT_PATH), or --tag TAG",
            ) from exc

    @classmethod
    def parse(cls, document: object, repository: str | None = None) -> Event:
        """The fields we use, each checked for its JSON type; absent ones are None."""
        event = _object(document, "the document")
        release, repo = _section(event, "release"), _section(event, "repository")
        return cls(
            _string(release, "tag_name", "release"),
            _string(release, "target_commitish", "release"),
            _string(release, "published_at", "release"),
            _string(repo, "full_name", "repository") or repository,
            _string(repo, "html_url", "repository"),
            _flag(release, "prerelease", "release"),
            _flag(release, "draft", "release"),
        )


class _WrongShape(ValueError):
    pass


def _object(value: object, where: str) -> Mapping[str, object]:
    if isinstance(value, dict):
        return value
    raise _WrongShape(f"{where} is {_json_type(value)}, not an object")


def _section(event: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = event.get(key)
    return {} if value is None else _object(value, key)


def _string(mapping: Mapping[str, object], key: str, where: str) -> str | None:
    value = mapping.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _WrongShape(f"{where}.{key} is {_json_type(value)}, not a string")


def _flag(mapping: Mapping[str, object], key: str, where: str) -> bool:
    value = mapping.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    raise _WrongShape(f"{where}.{key} is {_json_type(value)}, not a boolean")


_JSON_TYPES = (
    (bool, "a boolean"),  # before int: a bool is an int
    ((int, float), "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def _json_type(value: object) -> str:
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "null")


@dataclass(frozen=True)
class Options:
    tag: str | None = None
    event: str | None = None
    root: Path = Path(".")
    catalog: str = "dockerfiles/images.yaml"
    revision: str | None = None
    created: str | None = None
    source: str | None = None
    existing: Sequence[str] = ()
    prerelease: bool = False
    github_release: bool = False  # read the release's draft/prerelease state from GitHub


@dataclass(frozen=True)
class Context:
    plan: ReleasePlan
    root: Path
    repository: str | None  # owner/name on GitHub, for the report

    def require_checkout_at_revision(self) -> None:
        """Builds use the working tree: it must be the release commit's."""
        head = _known(self.root, git.commit_of, "HEAD")
        if head is not None and head != self.plan.revision:
            raise BuildError(
                f"the checkout is at {head[:12]} but release {self.plan.tag} is at "
                f"{self.plan.revision[:12]}",
                f"check out the tag first (git checkout {self.plan.tag})",
            )


def gather(options: Options, env: Mapping[str, str] | None = None) -> Context:
    env = os.environ if env is None else env
    created = oci_time(options.created, "--created") if options.created else None
    event = Event.load(options.event, env)
    tag = options.tag or event.tag
    if not tag:
        raise UsageError("no release tag", "pass --tag TAG or --event PATH (a release event)")
    root = options.root.resolve()
    catalog = load_catalog(root / options.catalog)
    release = resolve_tag(tag, catalog)
    if options.github_release:
        event = _with_release_state(event, tag, env)
    if event.draft:
        raise ReleaseTagError(
            f"release {shown(tag)} is a draft, and a draft is never released",
            "publish the release on GitHub (its workflow run starts then), or delete the draft",
        )
    revision = options.revision or _revision(root, tag, event, env)
    pinned = read_pinned(release.images, root, revision)
    source = options.source or _source(event, env, root)
    plan = make_plan(
        catalog,
        release,
        pinned,
        [*(_known(root, git.tags) or []), *options.existing],
        revision,
        created or _created(root, revision, event, env),
        source,
        prerelease=options.prerelease or event.prerelease,
    )
    if not source:
        log.warning(
            "%s is empty: no release event, GITHUB_REPOSITORY or git remote names the "
            "repository; pass --source URL",
            SOURCE_LABEL,
        )
    return Context(plan, root, event.repository)


def _with_release_state(event: Event, tag: str, env: Mapping[str, str]) -> Event:
    from bot.release.forge import release_state

    repository = event.repository or env.get("GITHUB_REPOSITORY")
    token = env.get("GITHUB_TOKEN")
    if not repository or not token:
        raise UsageError(
            "--github-release needs GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN",
            "set both, or drop --github-release and pass --prerelease if it is one",
        )
    state = release_state(repository, tag, token, env.get("GITHUB_API_URL"))
    return replace(
        event,
        repository=repository,
        prerelease=state.prerelease,
        draft=state.draft,
        html_url=event.html_url or state.repository_url,
    )


def _known(root: Path, query: Callable[..., _T], *args: str) -> _T | None:
    """What git says about the checkout; None outside one, or when git cannot say: the
    release then goes by the options, the event and the environment."""
    if not git.is_checkout(root):
        return None
    try:
        return query(root, *args)
    except git.GitError:
        return None


def _revision(root: Path, tag: str, event: Event, env: Mapping[str, str]) -> str:
    candidates = [
        _known(root, git.commit_of, f"refs/tags/{tag}"),
        env.get("GITHUB_SHA"),
        event.target_commitish
        if event.target_commitish and _SHA.match(event.target_commitish)
        else None,
        _known(root, git.commit_of, "HEAD"),
    ]
    for candidate in candidates:
        if candidate and _SHA.match(candidate):
            return candidate
    raise UsageError(
        f"cannot tell which commit release {shown(tag)} is",
        "run in a git checkout of the tag, or pass --revision SHA",
    )


def _created(root: Path, revision: str, event: Event, env: Mapping[str, str]) -> str:
    """SOURCE_DATE_EPOCH, else the release commit's time: never the time of this run, so a
    rerun (from the release event or by hand) plans the same labels and the same index."""
    epoch = env.get("SOURCE_DATE_EPOCH")
    if epoch:
        return _source_date_epoch(epoch)
    stamp = _known(root, git.commit_time, revision)
    if stamp is not None:
        return datetime.fromtimestamp(stamp, UTC).strftime(_OCI_TIME)
    if event.published_at:
        return oci_time(event.published_at, "the event's release.published_at")
    return datetime.now(UTC).strftime(_OCI_TIME)


_OCI_TIME = "%Y-%m-%dT%H:%M:%SZ"


def oci_time(text: str, what: str) -> str:
    """An ISO 8601 time as the OCI created label holds it: UTC to the second, `Z`.
    A time without an offset is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"{what} {shown(text)} is not an ISO 8601 time", "pass one like 2026-06-01T12:00:00Z"
        ) from exc
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime(_OCI_TIME)


def _source_date_epoch(text: str) -> str:
    try:
        return datetime.fromtimestamp(int(text), UTC).strftime(_OCI_TIME)
    except (ValueError, OverflowError, OSError) as exc:
        raise UsageError(
            f"SOURCE_DATE_EPOCH {shown(text)} is not a time in seconds since 1970",
            "set SOURCE_DATE_EPOCH to a whole number of seconds, or unset it",
        ) from exc


def _source(event: Event, env: Mapping[str, str], root: Path) -> str:
    """The repository's web address: the event's, Actions', else the git remote's."""
    if event.html_url:
        return event.html_url
    if event.repository:
        return f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{event.repository}"
    remote = _known(root, git.remote_url)
    return web_url(remote) if remote else ""


_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>(?!/)[^:]+)$")
_URL = re.compile(
    r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[A-Za-z0-9.-]+)(?::\d+)?/(?P<path>.+)$"
)


def web_url(remote: str) -> str:
    """A git remote as the https address of its repository, without credentials; "" for a
    remote that has none (a local path, a file:// URL). Pure."""
    match = _URL.match(remote) or _SCP.match(remote)
    if not match:
        return ""
    path = match["path"].strip("/").removesuffix(".git")
    return f"https://{match['host']}/{path}" if path else ""
