"""GitHub's JSON shapes, with every URL pointing back at the stand-in.

PyGithub follows ``url`` fields it receives, so they must be absolute URLs under the
stand-in's base URL. ``html_url``, ``download_url`` and friends point at a ``/_html`` tree
on the same host (never served; nothing leaves loopback).
"""

from __future__ import annotations

import base64
import textwrap
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .gitstore import FileChange, Person, TreeEntry
from .model import Comment, Issue, Label, Release, Repo, User
from .state import State

JSON = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ts(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64_lines(data: bytes) -> str:
    """Base64 wrapped at 60 columns with a trailing newline, as GitHub sends it."""
    encoded = base64.b64encode(data).decode()
    return "".join(line + "\n" for line in textwrap.wrap(encoded, 60)) if encoded else ""


def node_id(kind: str, ident: int | str) -> str:
    return f"{kind}_{base64.b64encode(str(ident).encode()).decode().rstrip('=')}"


class Renderer:
    def __init__(self, state: State, base_url: str) -> None:
        self.state = state
        self.base = base_url.rstrip("/")
        self.web = f"{self.base}/_html"

    # -- urls --------------------------------------------------------------------
    def repo_url(self, repo: Repo) -> str:
        return f"{self.base}/repos/{repo.owner}/{repo.name}"

    def repo_html(self, repo: Repo) -> str:
        return f"{self.web}/{repo.owner}/{repo.name}"

    # -- users -------------------------------------------------------------------
    def user(self, login: str | None) -> JSON | None:
        if login is None:
            return None
        return self._simple_user(self.state.user(login))

    def _simple_user(self, user: User) -> JSON:
        url = f"{self.base}/users/{quote(user.login, safe='')}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("U" if user.type == "User" else user.type[:3].upper(), user.id),
            "avatar_url": f"{self.web}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{quote(user.login, safe='')}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    # -- repositories ------------------------------------------------------------
    def repo(self, repo: Repo, *, full: bool = False, actor: str | None = None) -> JSON:
        url = self.repo_url(repo)
        html = self.repo_html(repo)
        open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
        data: JSON = {
            "id": repo.id,
            "node_id": node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": False,
            "owner": self.user(repo.owner),
            "html_url": html,
            "description": repo.description,
            "fork": False,
            "url": url,
            "archive_url": f"{url}/{{archive_format}}{{/ref}}",
            "assignees_url": f"{url}/assignees{{/user}}",
            "blobs_url": f"{url}/git/blobs{{/sha}}",
            "branches_url": f"{url}/branches{{/branch}}",
            "collaborators_url": f"{url}/collaborators{{/collaborator}}",
            "comments_url": f"{url}/comments{{/number}}",
            "commits_url": f"{url}/commits{{/sha}}",
            "compare_url": f"{url}/compare/{{base}}...{{head}}",
            "contents_url": f"{url}/contents/{{+path}}",
            "contributors_url": f"{url}/contributors",
            "deployments_url": f"{url}/deployments",
            "downloads_url": f"{url}/downloads",
            "events_url": f"{url}/events",
            "forks_url": f"{url}/forks",
            "git_commits_url": f"{url}/git/commits{{/sha}}",
            "git_refs_url": f"{url}/git/refs{{/sha}}",
            "git_tags_url": f"{url}/git/tags{{/sha}}",
            "git_url": f"{html}.git",
            "issue_comment_url": f"{url}/issues/comments{{/number}}",
            "issue_events_url": f"{url}/issues/events{{/number}}",
            "issues_url": f"{url}/issues{{/number}}",
            "keys_url": f"{url}/keys{{/key_id}}",
            "labels_url": f"{url}/labels{{/name}}",
            "languages_url": f"{url}/languages",
            "merges_url": f"{url}/merges",
            "milestones_url": f"{url}/milestones{{/number}}",
            "notifications_url": f"{url}/notifications{{?since,all,participating}}",
            "pulls_url": f"{url}/pulls{{/number}}",
            "releases_url": f"{url}/releases{{/id}}",
            "ssh_url": f"{html}.git",
            "stargazers_url": f"{url}/stargazers",
            "statuses_url": f"{url}/statuses/{{sha}}",
            "subscribers_url": f"{url}/subscribers",
            "subscription_url": f"{url}/subscription",
            "tags_url": f"{url}/tags",
            "teams_url": f"{url}/teams",
            "trees_url": f"{url}/git/trees{{/sha}}",
            "clone_url": f"{html}.git",
            "mirror_url": None,
            "hooks_url": f"{url}/hooks",
            "svn_url": html,
            "homepage": None,
            "language": "Dockerfile",
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "size": 1,
            "default_branch": repo.default_branch,
            "open_issues_count": open_issues,
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "public",
            "pushed_at": iso(repo.pushed_at),
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.updated_at),
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "license": None,
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
        }
        if actor is not None:
            data["permissions"] = {
                "admin": actor == repo.owner,
                "maintain": True,
                "push": True,
                "triage": True,
                "pull": True,
            }
        if full:
            data.update(
                {
                    "allow_squash_merge": True,
                    "allow_merge_commit": True,
                    "allow_rebase_merge": True,
                    "allow_auto_merge": False,
                    "delete_branch_on_merge": False,
                    "allow_update_branch": False,
                    "use_squash_pr_title_as_default": False,
                    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                    "squash_merge_commit_message": "COMMIT_MESSAGES",
                    "merge_commit_title": "MERGE_MESSAGE",
                    "merge_commit_message": "PR_TITLE",
                    "network_count": 0,
                    "subscribers_count": 0,
                }
            )
        return data

    # -- git data ----------------------------------------------------------------
    def git_ref(self, repo: Repo, ref: str, sha: str) -> JSON:
        kind = repo.git.object_type(sha) or "commit"
        plural = {"commit": "commits", "tree": "trees", "blob": "blobs", "tag": "tags"}[kind]
        return {
            "ref": ref,
            "node_id": node_id("REF", f"{repo.id}:{ref}"),
            "url": f"{self.repo_url(repo)}/git/{quote(ref)}",
            "object": {
                "sha": sha,
                "type": kind,
                "url": f"{self.repo_url(repo)}/git/{plural}/{sha}",
            },
        }

    def _person(self, person: Person) -> JSON:
        return {"name": person.name, "email": person.email, "date": iso_ts(person.timestamp)}

    def _verification(self, repo: Repo, sha: str) -> JSON:
        meta = repo.commit_meta.get(sha)
        if meta is not None and meta.verified:
            return {
                "verified": True,
                "reason": "valid",
                "signature": "-----BEGIN PGP SIGNATURE-----\n\nstand-in\n-----END PGP SIGNATURE-----\n",
                "payload": f"commit {sha}\n",
                "verified_at": iso(self.state.now()),
            }
        return {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        }

    def git_commit(self, repo: Repo, sha: str) -> JSON:
        url = self.repo_url(repo)
        commit = repo.git.read_commit(sha)
        return {
            "sha": sha,
            "node_id": node_id("C", sha),
            "url": f"{url}/git/commits/{sha}",
            "html_url": f"{self.repo_html(repo)}/commit/{sha}",
            "author": self._person(commit.author),
            "committer": self._person(commit.committer),
            "tree": {"sha": commit.tree, "url": f"{url}/git/trees/{commit.tree}"},
            "message": commit.message,
            "parents": [
                {
                    "sha": p,
                    "url": f"{url}/git/commits/{p}",
                    "html_url": f"{self.repo_html(repo)}/commit/{p}",
                }
                for p in commit.parents
            ],
            "verification": self._verification(repo, sha),
        }

    def tree_entry(self, repo: Repo, entry: TreeEntry) -> JSON:
        data: JSON = {"path": entry.path, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
        if entry.type == "blob":
            data["size"] = entry.size if entry.size is not None else repo.git.blob_size(entry.sha)
            data["url"] = f"{self.repo_url(repo)}/git/blobs/{entry.sha}"
        elif entry.type == "tree":
            data["url"] = f"{self.repo_url(repo)}/git/trees/{entry.sha}"
        return data

    def git_tree(self, repo: Repo, sha: str, entries: list[TreeEntry]) -> JSON:
        return {
            "sha": sha,
            "url": f"{self.repo_url(repo)}/git/trees/{sha}",
            "tree": [self.tree_entry(repo, entry) for entry in entries],
            "truncated": False,
        }

    # -- commits (the REST "commit" shape) -----------------------------------------
    def rest_commit(self, repo: Repo, sha: str) -> JSON:
        url = self.repo_url(repo)
        commit = repo.git.read_commit(sha)
        author = self.state.user_for_email(commit.author.email)
        committer = self.state.user_for_email(commit.committer.email)
        data: JSON = {
            "sha": sha,
            "node_id": node_id("C", sha),
            "commit": {
                "author": self._person(commit.author),
                "committer": self._person(commit.committer),
                "message": commit.message,
                "tree": {"sha": commit.tree, "url": f"{url}/git/trees/{commit.tree}"},
                "url": f"{url}/git/commits/{sha}",
                "comment_count": 0,
                "verification": self._verification(repo, sha),
            },
            "url": f"{url}/commits/{sha}",
            "html_url": f"{self.repo_html(repo)}/commit/{sha}",
            "comments_url": f"{url}/commits/{sha}/comments",
            "author": self._simple_user(author) if author else None,
            "committer": self._simple_user(committer) if committer else None,
            "parents": [
                {
                    "sha": p,
                    "url": f"{url}/commits/{p}",
                    "html_url": f"{self.repo_html(repo)}/commit/{p}",
                }
                for p in commit.parents
            ],
        }
        return data

    def diff_entry(self, repo: Repo, change: FileChange, ref_sha: str) -> JSON:
        url = self.repo_url(repo)
        html = self.repo_html(repo)
        data: JSON = {
            "sha": change.new_sha or change.old_sha,
            "filename": change.path,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": f"{html}/blob/{ref_sha}/{quote(change.path)}",
            "raw_url": f"{html}/raw/{ref_sha}/{quote(change.path)}",
            "contents_url": f"{url}/contents/{quote(change.path)}?ref={ref_sha}",
        }
        if change.patch is not None:
            data["patch"] = change.patch
        return data

    def content(self, repo: Repo, entry: TreeEntry, path: str, ref: str, *, body: bool) -> JSON:
        url = self.repo_url(repo)
        kind = {"blob": "file", "tree": "dir", "commit": "submodule"}[entry.type]
        if entry.mode == "120000":
            kind = "symlink"
        self_url = f"{url}/contents/{quote(path)}?ref={quote(ref, safe='')}"
        git_url = f"{url}/git/{'trees' if entry.type == 'tree' else 'blobs'}/{entry.sha}"
        html = f"{self.repo_html(repo)}/{'tree' if entry.type == 'tree' else 'blob'}/{quote(ref)}/{quote(path)}"
        size = (
            0
            if entry.type != "blob"
            else (entry.size if entry.size is not None else repo.git.blob_size(entry.sha))
        )
        data: JSON = {
            "type": kind,
            "size": size,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": entry.sha,
            "url": self_url,
            "git_url": git_url,
            "html_url": html,
            "download_url": f"{self.repo_html(repo)}/raw/{quote(ref)}/{quote(path)}"
            if entry.type == "blob"
            else None,
            "_links": {"self": self_url, "git": git_url, "html": html},
        }
        if body and kind == "file":
            data["content"] = b64_lines(repo.git.read_blob(entry.sha))
            data["encoding"] = "base64"
        if body and kind == "symlink":
            data["target"] = repo.git.read_blob(entry.sha).decode(errors="replace")
        return data

    # -- issues and pulls ----------------------------------------------------------
    def label(self, repo: Repo, label: Label) -> JSON:
        return {
            "id": label.id,
            "node_id": node_id("LA", label.id),
            "url": f"{self.repo_url(repo)}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": "ededed",
            "default": False,
            "description": None,
        }

    def issue_labels(self, repo: Repo, issue: Issue) -> list[JSON]:
        return [self.label(repo, repo.labels[key]) for key in issue.labels if key in repo.labels]

    def _association(self, repo: Repo, login: str) -> str:
        if login == repo.owner:
            return "OWNER"
        user = self.state.users.get(login.lower())
        return "NONE" if user is not None and user.type == "Bot" else "MEMBER"

    def _reactions(self, url: str) -> JSON:
        counts = dict.fromkeys(
            ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0
        )
        return {"url": f"{url}/reactions", "total_count": 0, **counts}

    def issue(self, repo: Repo, issue: Issue) -> JSON:
        url = f"{self.repo_url(repo)}/issues/{issue.number}"
        kind = "pull" if issue.pull is not None else "issues"
        data: JSON = {
            "url": url,
            "repository_url": self.repo_url(repo),
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{self.repo_html(repo)}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": node_id("I" if issue.pull is None else "PR", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.user),
            "labels": self.issue_labels(repo, issue),
            "state": issue.state,
            "locked": issue.locked,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(a) for a in issue.assignees],
            "milestone": None,
            "comments": issue.comments,
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "closed_by": self.user(issue.closed_by),
            "author_association": self._association(repo, issue.user),
            "active_lock_reason": None,
            "body": issue.body,
            "reactions": self._reactions(url),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        if issue.pull is not None:
            pull_url = f"{self.repo_url(repo)}/pulls/{issue.number}"
            html = f"{self.repo_html(repo)}/pull/{issue.number}"
            data["draft"] = issue.pull.draft
            data["pull_request"] = {
                "url": pull_url,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": iso(issue.pull.merged_at),
            }
        return data

    def pull(self, repo: Repo, issue: Issue, *, simple: bool = False) -> JSON:
        pull = issue.pull
        assert pull is not None
        stats = self.state.pull_stats(repo, issue)
        url = f"{self.repo_url(repo)}/pulls/{issue.number}"
        issue_url = f"{self.repo_url(repo)}/issues/{issue.number}"
        html = f"{self.repo_html(repo)}/pull/{issue.number}"
        repo_json = self.repo(repo)
        owner = self.user(repo.owner)
        data: JSON = {
            "url": url,
            "id": issue.id,
            "node_id": node_id("PR", issue.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{self.repo_url(repo)}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{self.repo_url(repo)}/statuses/{stats.head_sha}",
            "number": issue.number,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "labels": self.issue_labels(repo, issue),
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "merged_at": iso(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(a) for a in issue.assignees],
            "requested_reviewers": [self.user(r) for r in pull.requested_reviewers],
            "requested_teams": [],
            "head": {
                "label": f"{repo.owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": stats.head_sha,
                "user": owner,
                "repo": repo_json,
            },
            "base": {
                "label": f"{repo.owner}:{pull.base_ref}",
                "ref": pull.base_ref,
                "sha": stats.base_sha,
                "user": owner,
                "repo": repo_json,
            },
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": issue_url},
                "comments": {"href": f"{issue_url}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{self.repo_url(repo)}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{self.repo_url(repo)}/statuses/{stats.head_sha}"},
            },
            "author_association": self._association(repo, issue.user),
            "auto_merge": None,
            "draft": pull.draft,
        }
        if simple:
            return data
        open_ = issue.state == "open"
        pending = open_ and self.state.take_mergeable_pending(repo, issue)
        mergeable = stats.mergeable if open_ and not pending else None
        if not open_ or pending:
            mergeable_state = "unknown"
        elif pull.draft:
            mergeable_state = "draft"
        else:
            mergeable_state = "clean" if mergeable else "dirty"
        data.update(
            {
                "merged": pull.merged_at is not None,
                "mergeable": mergeable,
                "rebaseable": (mergeable and repo.git.is_ancestor(stats.base_sha, stats.head_sha))
                if mergeable is not None
                else None,
                "mergeable_state": mergeable_state,
                "merged_by": self.user(pull.merged_by),
                "comments": issue.comments,
                "review_comments": 0,
                "maintainer_can_modify": pull.maintainer_can_modify,
                "commits": stats.commits,
                "additions": stats.additions,
                "deletions": stats.deletions,
                "changed_files": stats.changed_files,
            }
        )
        return data

    def comment(self, repo: Repo, comment: Comment) -> JSON:
        url = f"{self.repo_url(repo)}/issues/comments/{comment.id}"
        issue = repo.issues[comment.issue_number]
        kind = "pull" if issue.pull is not None else "issues"
        return {
            "id": comment.id,
            "node_id": node_id("IC", comment.id),
            "url": url,
            "html_url": f"{self.repo_html(repo)}/{kind}/{comment.issue_number}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "issue_url": f"{self.repo_url(repo)}/issues/{comment.issue_number}",
            "author_association": self._association(repo, comment.user),
            "performed_via_github_app": None,
            "reactions": self._reactions(url),
        }

    def release(self, repo: Repo, release: Release) -> JSON:
        url = f"{self.repo_url(repo)}/releases/{release.id}"
        tag = quote(release.tag_name, safe="")
        return {
            "url": url,
            "assets_url": f"{url}/assets",
            "upload_url": f"{self.base}/repos/{repo.owner}/{repo.name}/releases/{release.id}/assets{{?name,label}}",
            "html_url": f"{self.repo_html(repo)}/releases/tag/{tag}",
            "id": release.id,
            "author": self.user(release.author),
            "node_id": node_id("RE", release.id),
            "tag_name": release.tag_name,
            "target_commitish": release.target_commitish,
            "name": release.name,
            "draft": release.draft,
            "immutable": False,
            "prerelease": release.prerelease,
            "created_at": iso(release.created_at),
            "updated_at": iso(release.created_at),
            "published_at": iso(release.published_at),
            "assets": [],
            "tarball_url": f"{self.repo_url(repo)}/tarball/{tag}",
            "zipball_url": f"{self.repo_url(repo)}/zipball/{tag}",
            "body": release.body,
        }
