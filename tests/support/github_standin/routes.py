"""The REST endpoints: parse a request, call the domain (``state.py``), render the answer.

Only what condabot calls is served (``bot/forge/github.py``, ``bot/release/``), plus what
the bot's tests do as people through the API (merge, label, read a file, publish a
release) or read back with ``get_json``; anything else is a 404, so a new call the bot
makes shows up as a failing test, not as a silently faked answer.

Each route is declared with its OpenAPI path template (``{name}`` one segment,
``{name:path}`` several, ``{name:int}`` digits), so the request log can say which
operation of GitHub's description answered every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlencode

from . import errors as e
from .errors import ApiError
from .gitstore import TREE_MODES, GitError, Person, TreeEdit
from .model import Issue, Repo
from .render import JSON, Renderer
from .state import WEB_FLOW, State

T = TypeVar("T")
Reply = tuple[int, Any]
DOC = "https://docs.github.com/rest/"


@dataclass
class Ctx:
    state: State
    render: Renderer
    method: str
    path: str  # percent-encoded, without query
    params: dict[str, str]
    query: list[tuple[str, str]]
    body: Any
    login: str | None
    headers: dict[str, str] = field(default_factory=dict)

    # -- request -----------------------------------------------------------------
    def q(self, name: str, default: str | None = None) -> str | None:
        return next((v for k, v in self.query if k == name), default)

    def actor(self) -> str:
        if self.login is None:
            raise ApiError(401, "Requires authentication", documentation_url=DOC)
        return self.login

    def repo(self) -> Repo:
        return self.state.repo(self.params["owner"], self.params["repo"])

    def number(self, name: str = "number") -> int:
        return int(self.params[name])

    def has(self, name: str) -> bool:
        return isinstance(self.body, dict) and name in self.body

    def get(
        self, name: str, kind: type[T], *, required: bool = False, nullable: bool = True
    ) -> T | None:
        body = self.body if isinstance(self.body, dict) else {}
        if name not in body:
            if required:
                raise e.missing_param(name)
            return None
        value = body[name]
        if value is None and nullable and not required:
            return None
        if kind is int and isinstance(value, bool):
            raise e.wrong_type(name, value, "an integer")
        if not isinstance(value, kind):
            expected = {
                str: "a string",
                bool: "a boolean",
                int: "an integer",
                list: "an array",
                dict: "an object",
            }
            raise e.wrong_type(name, value, expected.get(kind, kind.__name__))
        return value

    def strings(self, name: str) -> list[str] | None:
        values = self.get(name, list)
        if values is None:
            return None
        if not all(isinstance(v, str) for v in values):
            raise e.wrong_type(name, values, "an array of strings")
        return [str(v) for v in values]

    # -- pagination --------------------------------------------------------------
    def paginate(self, items: Sequence[T], default: int = 30, maximum: int = 100) -> list[T]:
        try:
            per_page = min(max(int(self.q("per_page") or default), 1), maximum)
            page = max(int(self.q("page") or 1), 1)
        except ValueError:
            per_page, page = default, 1
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []
        if page < last:
            links += [(page + 1, "next"), (last, "last")]
        if page > 1:
            links += [(page - 1, "prev"), (1, "first")]
        if links:
            self.headers["Link"] = ", ".join(
                f'<{self._page_url(n)}>; rel="{rel}"' for n, rel in links
            )
        start = (page - 1) * per_page
        return list(items[start : start + per_page])

    def _page_url(self, page: int) -> str:
        query = [(k, v) for k, v in self.query if k != "page"] + [("page", str(page))]
        return f"{self.render.base}{self.path}?{urlencode(query)}"


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Callable[[Ctx], Reply]
    doc: str
    in_spec: bool
    regex: re.Pattern[str]

    @property
    def operation(self) -> str | None:
        """The OpenAPI path template, e.g. ``/repos/{owner}/{repo}/pulls/{pull_number}``."""
        if not self.in_spec:
            return None
        return re.sub(r"\{(\w+):\w+\}", r"{\1}", self.template)


ROUTES: list[Route] = []
_CONVERTERS = {"": r"[^/]+", "path": r".+", "int": r"\d+"}


def route(
    method: str, template: str, doc: str, *, in_spec: bool = True
) -> Callable[[Callable[[Ctx], Reply]], Callable[[Ctx], Reply]]:
    def compile_template(template: str) -> re.Pattern[str]:
        pattern = ""
        for part in re.split(r"(\{\w+(?::\w+)?\})", template):
            m = re.fullmatch(r"\{(\w+)(?::(\w+))?\}", part)
            pattern += f"(?P<{m[1]}>{_CONVERTERS[m[2] or '']})" if m else re.escape(part)
        return re.compile(pattern)

    def register(fn: Callable[[Ctx], Reply]) -> Callable[[Ctx], Reply]:
        ROUTES.append(Route(method, template, fn, DOC + doc, in_spec, compile_template(template)))
        return fn

    return register


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    method = "GET" if method == "HEAD" else method
    for candidate in ROUTES:
        if candidate.method != method:
            continue
        m = candidate.regex.fullmatch(path)
        if m:
            return candidate, {k: unquote(v) for k, v in m.groupdict().items()}
    return None


def _created(ctx: Ctx, data: JSON) -> Reply:
    if isinstance(data.get("url"), str):
        ctx.headers["Location"] = data["url"]
    return 201, data


# --------------------------------------------------------------------------------
# repository
# --------------------------------------------------------------------------------
@route("GET", "/repos/{owner}/{repo}", "repos/repos#get-a-repository")
def get_repo(ctx: Ctx) -> Reply:
    return 200, ctx.render.repo(ctx.repo(), full=True, actor=ctx.login)


# --------------------------------------------------------------------------------
# git data: refs are created here and moved through GraphQL (see graphql.py)
# --------------------------------------------------------------------------------
@route("POST", "/repos/{owner}/{repo}/git/refs", "git/refs#create-a-reference")
def create_ref(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    ref = ctx.get("ref", str, required=True)
    sha = ctx.get("sha", str, required=True)
    assert ref is not None and sha is not None
    ctx.state.create_ref(repo, actor, ref, sha)
    return _created(ctx, ctx.render.git_ref(repo, ref, sha))


def _person(ctx: Ctx, name: str) -> Person | None:
    data = ctx.get(name, dict)
    if data is None:
        return None
    who, email, date = data.get("name"), data.get("email"), data.get("date")
    if not isinstance(who, str) or not isinstance(email, str):
        raise e.wrong_type(f"{name}/name", who if not isinstance(who, str) else email, "a string")
    when = int(ctx.state.now().timestamp())
    if date is not None:
        try:
            when = int(datetime.fromisoformat(str(date).replace("Z", "+00:00")).timestamp())
        except ValueError as exc:
            raise e.unprocessable(
                f"Invalid request.\n\n{date!r} is not a valid date-time."
            ) from exc
    return Person(who, email, when)


@route("POST", "/repos/{owner}/{repo}/git/commits", "git/commits#create-a-commit")
def create_commit(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    message = ctx.get("message", str, required=True)
    tree = ctx.get("tree", str, required=True)
    parents = ctx.strings("parents") or []
    author = _person(ctx, "author")
    committer = _person(ctx, "committer")
    assert message is not None and tree is not None
    if repo.git.object_type(tree) != "tree":
        raise e.unprocessable("Tree SHA does not exist")
    for parent in parents:
        if repo.git.object_type(parent) != "commit":
            raise e.unprocessable("Parent SHA does not exist or is not a commit object")
    signed = author is None and committer is None
    author = author or ctx.state.identity(actor)
    committer = committer or (ctx.state.identity(WEB_FLOW) if signed else author)
    try:
        sha = repo.git.write_commit(tree, parents, author, committer, message)
    except GitError as exc:
        raise e.unprocessable(str(exc)) from exc
    ctx.state.record_commit(repo, sha, actor, verified=signed)
    return _created(ctx, ctx.render.git_commit(repo, sha))


@route("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", "git/commits#get-a-commit-object")
def get_git_commit(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    sha = ctx.params["commit_sha"]
    if repo.git.object_type(sha) != "commit":
        raise e.not_found()
    return 200, ctx.render.git_commit(repo, sha)


def _tree_edit(repo: Repo, index: int, raw: Any) -> TreeEdit:
    if not isinstance(raw, dict):
        raise e.wrong_type(f"tree/{index}", raw, "an object")
    path, mode, kind = raw.get("path"), raw.get("mode"), raw.get("type")
    if not isinstance(path, str) or not path or path.startswith("/") or "" in path.split("/"):
        raise e.unprocessable("tree.path contains a malformed path component")
    if mode not in TREE_MODES:
        raise e.unprocessable(
            f"Invalid request.\n\nFor 'properties/mode', {mode!r} is not a valid tree mode."
        )
    if kind not in ("blob", "tree", "commit") or TREE_MODES[str(mode)] != kind:
        raise e.unprocessable(
            f"Invalid request.\n\nFor 'properties/type', {kind!r} does not match mode {mode}."
        )
    has_sha, has_content = "sha" in raw, "content" in raw
    if has_sha and has_content:
        raise e.unprocessable(
            "Must supply either tree.sha or tree.content. Request will be rejected if both are present."
        )
    if has_content:
        content = raw["content"]
        if not isinstance(content, str) or kind != "blob":
            raise e.wrong_type("content", content, "a string")
        return TreeEdit(path, str(mode), str(kind), content=content.encode())
    sha = raw.get("sha")
    if sha is None:
        if not has_sha:
            raise e.unprocessable(
                "Must supply either tree.sha or tree.content. Request will be rejected if both are present."
            )
        return TreeEdit(path, str(mode), str(kind))  # deletion
    if not isinstance(sha, str) or (kind != "commit" and repo.git.object_type(sha) != kind):
        raise e.unprocessable(f"tree.sha {sha} is not a valid {kind}")
    return TreeEdit(path, str(mode), str(kind), sha=sha)


@route("POST", "/repos/{owner}/{repo}/git/trees", "git/trees#create-a-tree")
def create_tree(ctx: Ctx) -> Reply:
    ctx.actor()
    repo = ctx.repo()
    entries = ctx.get("tree", list, required=True)
    base = ctx.get("base_tree", str)
    assert entries is not None
    edits = [_tree_edit(repo, i, raw) for i, raw in enumerate(entries)]
    base_tree = None
    if base is not None:
        base_tree = repo.git.resolve_tree(base)
        if base_tree is None:
            raise e.unprocessable("base_tree is not a valid tree oid")
    try:
        sha = repo.git.build_tree(base_tree, edits)
    except KeyError as exc:
        raise e.unprocessable("GitRPC::BadObjectState") from exc
    return _created(ctx, ctx.render.git_tree(repo, sha, repo.git.read_tree(sha)))


@route("GET", "/repos/{owner}/{repo}/contents/{path:path}", "repos/contents#get-repository-content")
def get_contents(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    if not repo.git.refs():
        raise e.not_found("This repository is empty.")
    ref = ctx.q("ref") or repo.default_branch
    sha = repo.git.resolve(ref)
    if sha is None:
        raise e.not_found(f"No commit found for the ref {ref}")
    path = ctx.params["path"].strip("/")
    entry = repo.git.entry_at(sha, path)
    if entry is None:
        raise e.not_found()
    if entry.type == "tree":
        children = repo.git.read_tree(entry.sha)
        return 200, [
            ctx.render.content(repo, child, f"{path}/{child.path}".lstrip("/"), ref, body=False)
            for child in children
        ]
    return 200, ctx.render.content(repo, entry, path, ref, body=True)


# --------------------------------------------------------------------------------
# pulls
# --------------------------------------------------------------------------------
def _sorted(ctx: Ctx, issues: list[Issue]) -> list[Issue]:
    sort = ctx.q("sort") or "created"
    direction = ctx.q("direction") or ("desc" if sort == "created" else "asc")
    if sort == "updated":
        issues.sort(key=lambda i: (i.updated_at, i.number))
    elif sort == "comments":
        issues.sort(key=lambda i: (i.comments, i.number))
    else:
        issues.sort(key=lambda i: i.number)
    if direction == "desc":
        issues.reverse()
    return issues


def _state_filter(ctx: Ctx, resource: str) -> str:
    state = ctx.q("state") or "open"
    if state not in ("open", "closed", "all"):
        raise e.validation_failed(e.invalid(resource, "state", value=state))
    return state


@route("GET", "/repos/{owner}/{repo}/pulls", "pulls/pulls#list-pull-requests")
def list_pulls(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    state = _state_filter(ctx, "PullRequest")
    head, base = ctx.q("head"), ctx.q("base")
    found = []
    for issue in repo.pulls():
        pull = issue.pull
        assert pull is not None
        if state != "all" and issue.state != state:
            continue
        if head and ":" in head:  # without "owner:" GitHub ignores the filter
            owner, branch = head.split(":", 1)
            if owner.lower() != repo.owner.lower() or branch != pull.head_ref:
                continue
        if base and base != pull.base_ref:
            continue
        found.append(issue)
    page = ctx.paginate(_sorted(ctx, found))
    return 200, [ctx.render.pull(repo, i, simple=True) for i in page]


@route("POST", "/repos/{owner}/{repo}/pulls", "pulls/pulls#create-a-pull-request")
def create_pull(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    head = ctx.get("head", str, required=True)
    base = ctx.get("base", str, required=True)
    assert head is not None and base is not None
    mcm = ctx.get("maintainer_can_modify", bool)
    issue = ctx.state.create_pull(
        repo,
        actor,
        title=ctx.get("title", str),
        head=head,
        base=base,
        body=ctx.get("body", str),
        draft=ctx.get("draft", bool) or False,
        maintainer_can_modify=True if mcm is None else mcm,
        issue_number=ctx.get("issue", int),
    )
    return _created(ctx, ctx.render.pull(repo, issue))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number:int}", "pulls/pulls#get-a-pull-request")
def get_pull(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    return 200, ctx.render.pull(repo, ctx.state.pull(repo, ctx.number("pull_number")))


@route(
    "PATCH", "/repos/{owner}/{repo}/pulls/{pull_number:int}", "pulls/pulls#update-a-pull-request"
)
def update_pull(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    issue = ctx.state.pull(repo, ctx.number("pull_number"))
    ctx.state.update_pull(
        repo,
        issue,
        actor,
        title=ctx.get("title", str),
        body=ctx.get("body", str),
        body_set=ctx.has("body"),
        state=ctx.get("state", str),
        base=ctx.get("base", str),
        maintainer_can_modify=ctx.get("maintainer_can_modify", bool),
    )
    return 200, ctx.render.pull(repo, issue)


@route(
    "PUT", "/repos/{owner}/{repo}/pulls/{pull_number:int}/merge", "pulls/pulls#merge-a-pull-request"
)
def merge_pull(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    issue = ctx.state.pull(repo, ctx.number("pull_number"))
    sha = ctx.state.merge_pull(
        repo,
        issue,
        actor,
        commit_title=ctx.get("commit_title", str),
        commit_message=ctx.get("commit_message", str),
        sha=ctx.get("sha", str),
        merge_method=ctx.get("merge_method", str) or "merge",
    )
    return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}


@route(
    "GET",
    "/repos/{owner}/{repo}/pulls/{pull_number:int}/commits",
    "pulls/pulls#list-commits-on-a-pull-request",
)
def pull_commits(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    issue = ctx.state.pull(repo, ctx.number("pull_number"))
    stats = ctx.state.pull_stats(repo, issue)
    shas = list(reversed(repo.git.rev_list(stats.head_sha, [stats.base_sha])))[:250]
    return 200, [ctx.render.rest_commit(repo, s) for s in ctx.paginate(shas)]


@route(
    "GET",
    "/repos/{owner}/{repo}/pulls/{pull_number:int}/files",
    "pulls/pulls#list-pull-requests-files",
)
def pull_files(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    issue = ctx.state.pull(repo, ctx.number("pull_number"))
    stats = ctx.state.pull_stats(repo, issue)
    changes = repo.git.diff(stats.merge_base, stats.head_sha)
    return 200, [ctx.render.diff_entry(repo, c, stats.head_sha) for c in ctx.paginate(changes)]


@route(
    "POST",
    "/repos/{owner}/{repo}/pulls/{pull_number:int}/requested_reviewers",
    "pulls/review-requests#request-reviewers-for-a-pull-request",
)
def request_reviewers(ctx: Ctx) -> Reply:
    ctx.actor()
    repo = ctx.repo()
    issue = ctx.state.pull(repo, ctx.number("pull_number"))
    ctx.state.request_reviewers(
        repo, issue, ctx.strings("reviewers") or [], ctx.strings("team_reviewers") or []
    )
    return _created(ctx, ctx.render.pull(repo, issue, simple=True))


# --------------------------------------------------------------------------------
# issues, comments, labels
# --------------------------------------------------------------------------------
def _label_names(ctx: Ctx, key: str = "labels") -> list[str]:
    raw = ctx.body.get(key) if isinstance(ctx.body, dict) else ctx.body
    if raw is None:
        raise e.missing_param(key)
    if not isinstance(raw, list):
        raise e.wrong_type(key, raw, "an array")
    names = []
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise e.wrong_type(key, item, "a label name")
        names.append(name)
    return names


@route("GET", "/repos/{owner}/{repo}/issues", "issues/issues#list-repository-issues")
def list_issues(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    state = _state_filter(ctx, "Issue")
    wanted = [x.strip().lower() for x in (ctx.q("labels") or "").split(",") if x.strip()]
    creator, assignee, since = ctx.q("creator"), ctx.q("assignee"), ctx.q("since")
    found = []
    for issue in repo.issues.values():
        if state != "all" and issue.state != state:
            continue
        if any(label not in issue.labels for label in wanted):
            continue
        if creator and issue.user.lower() != creator.lower():
            continue
        if assignee == "none" and issue.assignees:
            continue
        if assignee == "*" and not issue.assignees:
            continue
        if assignee not in (None, "none", "*") and assignee.lower() not in (
            a.lower() for a in issue.assignees
        ):
            continue
        if since and issue.updated_at < datetime.fromisoformat(since.replace("Z", "+00:00")):
            continue
        found.append(issue)
    page = ctx.paginate(_sorted(ctx, found))
    return 200, [ctx.render.issue(repo, i) for i in page]


@route("POST", "/repos/{owner}/{repo}/issues", "issues/issues#create-an-issue")
def create_issue(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    title = ctx.get("title", str, required=True)
    assert title is not None
    assignees = ctx.strings("assignees") or []
    single = ctx.get("assignee", str)
    if single:
        assignees.insert(0, single)
    issue = ctx.state.create_issue(
        repo,
        actor,
        title=title,
        body=ctx.get("body", str),
        labels=_label_names(ctx) if ctx.has("labels") else [],
        assignees=assignees,
    )
    return _created(ctx, ctx.render.issue(repo, issue))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number:int}", "issues/issues#get-an-issue")
def get_issue(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    return 200, ctx.render.issue(repo, ctx.state.issue(repo, ctx.number("issue_number")))


@route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number:int}", "issues/issues#update-an-issue")
def update_issue(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    issue = ctx.state.issue(repo, ctx.number("issue_number"))
    ctx.state.update_issue(
        repo,
        issue,
        actor,
        title=ctx.get("title", str),
        body=ctx.get("body", str),
        body_set=ctx.has("body"),
        state=ctx.get("state", str),
        state_reason=ctx.get("state_reason", str),
        labels=_label_names(ctx) if ctx.has("labels") else None,
        assignees=ctx.strings("assignees"),
    )
    return 200, ctx.render.issue(repo, issue)


@route(
    "GET",
    "/repos/{owner}/{repo}/issues/{issue_number:int}/comments",
    "issues/comments#list-issue-comments",
)
def list_comments(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    issue = ctx.state.issue(repo, ctx.number("issue_number"))
    since = ctx.q("since")
    found = [c for c in repo.comments.values() if c.issue_number == issue.number]
    if since:
        moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
        found = [c for c in found if c.updated_at >= moment]
    found.sort(key=lambda c: c.id)
    return 200, [ctx.render.comment(repo, c) for c in ctx.paginate(found)]


@route(
    "POST",
    "/repos/{owner}/{repo}/issues/{issue_number:int}/comments",
    "issues/comments#create-an-issue-comment",
)
def create_comment(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    issue = ctx.state.issue(repo, ctx.number("issue_number"))
    body = ctx.get("body", str, required=True)
    assert body is not None
    comment = ctx.state.add_comment(repo, issue, actor, body)
    return _created(ctx, ctx.render.comment(repo, comment))


@route(
    "POST",
    "/repos/{owner}/{repo}/issues/{issue_number:int}/labels",
    "issues/labels#add-labels-to-an-issue",
)
def add_labels(ctx: Ctx) -> Reply:
    ctx.actor()
    repo = ctx.repo()
    issue = ctx.state.issue(repo, ctx.number("issue_number"))
    ctx.state.add_labels(repo, issue, _label_names(ctx))
    return 200, ctx.render.issue_labels(repo, issue)


@route(
    "DELETE",
    "/repos/{owner}/{repo}/issues/{issue_number:int}/labels/{name:path}",
    "issues/labels#remove-a-label-from-an-issue",
)
def remove_label(ctx: Ctx) -> Reply:
    ctx.actor()
    repo = ctx.repo()
    issue = ctx.state.issue(repo, ctx.number("issue_number"))
    ctx.state.remove_label(issue, ctx.params["name"])
    return 200, ctx.render.issue_labels(repo, issue)


# --------------------------------------------------------------------------------
# releases
# --------------------------------------------------------------------------------
@route("GET", "/repos/{owner}/{repo}/releases", "releases/releases#list-releases")
def list_releases(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    releases = sorted(repo.releases.values(), key=lambda r: (r.created_at, r.id), reverse=True)
    return 200, [ctx.render.release(repo, r) for r in ctx.paginate(releases)]


@route("POST", "/repos/{owner}/{repo}/releases", "releases/releases#create-a-release")
def create_release(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    tag = ctx.get("tag_name", str, required=True)
    assert tag is not None
    release = ctx.state.create_release(
        repo,
        actor,
        tag_name=tag,
        target_commitish=ctx.get("target_commitish", str),
        name=ctx.get("name", str),
        body=ctx.get("body", str),
        draft=ctx.get("draft", bool) or False,
        prerelease=ctx.get("prerelease", bool) or False,
    )
    return _created(ctx, ctx.render.release(repo, release))


@route(
    "GET",
    "/repos/{owner}/{repo}/releases/tags/{tag:path}",
    "releases/releases#get-a-release-by-tag-name",
)
def release_by_tag(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    for release in repo.releases.values():
        if release.tag_name == ctx.params["tag"] and not release.draft:
            return 200, ctx.render.release(repo, release)
    raise e.not_found()


@route(
    "PATCH", "/repos/{owner}/{repo}/releases/{release_id:int}", "releases/releases#update-a-release"
)
def update_release(ctx: Ctx) -> Reply:
    actor = ctx.actor()
    repo = ctx.repo()
    release = ctx.state.release(repo, ctx.number("release_id"))
    ctx.state.update_release(
        repo,
        release,
        actor,
        tag_name=ctx.get("tag_name", str),
        target_commitish=ctx.get("target_commitish", str),
        name=ctx.get("name", str),
        name_set=ctx.has("name"),
        body=ctx.get("body", str),
        body_set=ctx.has("body"),
        draft=ctx.get("draft", bool),
        prerelease=ctx.get("prerelease", bool),
    )
    return 200, ctx.render.release(repo, release)


# --------------------------------------------------------------------------------
# GraphQL (validated against GitHub's schema; see graphql.py)
# --------------------------------------------------------------------------------
@route("POST", "/graphql", "graphql", in_spec=False)
def graphql(ctx: Ctx) -> Reply:
    from .graphql import answer

    return answer(ctx.state, ctx.actor(), ctx.body)
