"""One bare git repository on disk, driven through the git CLI.

Everything GitHub's git-data API needs: blobs, trees (read, and rebuilt from a base
tree plus edits), commits, refs with compare-and-swap updates, ancestry, merges
(``git merge-tree --write-tree``) and diffs. Objects are immutable, so reads of
them are cached by object id.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ZERO_OID = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
SHA_RE = re.compile(r"[0-9a-f]{40}")
TREE_MODES = {
    "100644": "blob",
    "100755": "blob",
    "120000": "blob",
    "040000": "tree",
    "160000": "commit",
}


class GitError(RuntimeError):
    """git refused an operation (bad object, failed compare-and-swap, ...)."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    timestamp: int  # epoch seconds, UTC


@dataclass(frozen=True)
class CommitObject:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    type: str
    sha: str
    path: str
    size: int | None


@dataclass(frozen=True)
class FileChange:
    """One path changed between two trees (no rename detection, like a plain diff)."""

    path: str
    status: str  # added | removed | modified
    old_sha: str | None
    new_sha: str | None
    additions: int
    deletions: int
    patch: str | None


@dataclass(frozen=True)
class TreeEdit:
    """One entry of a ``POST git/trees`` request, already decoded.

    ``sha is None and content is None`` deletes the path.
    """

    path: str
    mode: str
    type: str
    sha: str | None = None
    content: bytes | None = None


@dataclass
class _Node:
    """A tree being edited: entries name -> (mode, type, sha) or a child node."""

    entries: dict[str, tuple[str, str, str] | _Node] = field(default_factory=dict)


def _check_person(person: Person) -> None:
    for value in (person.name, person.email):
        if any(ch in value for ch in "<>\n\0"):
            raise GitError(f"invalid identity {value!r}")


class GitStore:
    """A bare repository at ``path``; every mutation goes through git."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._commits: dict[str, CommitObject] = {}
        self._trees: dict[str, list[TreeEntry]] = {}
        self._merges: dict[tuple[str, str], str | None] = {}
        self._diffs: dict[tuple[str, str], list[FileChange]] = {}
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }

    # -- plumbing --------------------------------------------------------------
    def _git(
        self, *args: str, stdin: bytes | None = None, ok: Sequence[int] = (0,)
    ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            input=stdin,
            capture_output=True,
            env=self._env,
            check=False,
        )
        if proc.returncode not in ok:
            err = proc.stderr.decode(errors="replace").strip()
            raise GitError(f"git {args[0]} failed ({proc.returncode}): {err}")
        return proc

    def _out(self, *args: str, stdin: bytes | None = None) -> str:
        return self._git(*args, stdin=stdin).stdout.decode().strip()

    def init(self, default_branch: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "git",
                "init",
                "--quiet",
                "--bare",
                f"--initial-branch={default_branch}",
                str(self.path),
            ],
            check=True,
            capture_output=True,
            env=self._env,
        )
        self._git("config", "gc.auto", "0")
        self._git("config", "core.logAllRefUpdates", "false")

    # -- objects ---------------------------------------------------------------
    def object_type(self, sha: str) -> str | None:
        if not SHA_RE.fullmatch(sha):
            return None
        proc = self._git("cat-file", "-t", sha, ok=(0, 1, 128))
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def write_blob(self, data: bytes) -> str:
        return self._out("hash-object", "-w", "-t", "blob", "--stdin", stdin=data)

    def read_blob(self, sha: str) -> bytes:
        return self._git("cat-file", "blob", sha).stdout

    def blob_size(self, sha: str) -> int:
        return int(self._out("cat-file", "-s", sha))

    def read_tree(self, sha: str) -> list[TreeEntry]:
        """The entries of one tree (not recursive), in git order."""
        if sha not in self._trees:
            self._trees[sha] = self._ls_tree(sha, recursive=False)
        return self._trees[sha]

    def read_tree_recursive(self, sha: str) -> list[TreeEntry]:
        """Every entry below a tree, subtrees included, paths relative to it."""
        return self._ls_tree(sha, recursive=True)

    def _ls_tree(self, sha: str, *, recursive: bool) -> list[TreeEntry]:
        args = ["ls-tree", "-z", "-l", "--full-tree"]
        if recursive:
            args += ["-r", "-t"]
        out = self._git(*args, sha).stdout.decode()
        entries = []
        for record in filter(None, out.split("\0")):
            meta, path = record.split("\t", 1)
            mode, kind, oid, size = meta.split()
            entries.append(TreeEntry(mode, kind, oid, path, None if size == "-" else int(size)))
        return entries

    def write_tree(self, entries: Iterable[tuple[str, str, str, str]]) -> str:
        """``git mktree`` from (mode, type, sha, name) rows; git sorts them."""
        text = "".join(f"{mode} {kind} {sha}\t{name}\0" for mode, kind, sha, name in entries)
        return self._out("mktree", "-z", stdin=text.encode())

    def build_tree(self, base_tree: str | None, edits: Sequence[TreeEdit]) -> str:
        """A new tree: ``base_tree`` (or empty) with ``edits`` applied at nested paths.

        Raises ``KeyError(path)`` when a deletion names a path absent from the base.
        """
        root = self._load_node(base_tree) if base_tree else _Node()
        for edit in edits:
            parts = edit.path.split("/")
            node = root
            for part in parts[:-1]:
                child = node.entries.get(part)
                if isinstance(child, tuple):
                    if child[1] != "tree":
                        if edit.sha is None and edit.content is None:
                            raise KeyError(edit.path)
                        child = _Node()  # a file becomes a directory
                    else:
                        child = self._load_node(child[2])
                elif child is None:
                    if edit.sha is None and edit.content is None:
                        raise KeyError(edit.path)
                    child = _Node()
                node.entries[part] = child
                node = child
            name = parts[-1]
            if edit.sha is None and edit.content is None:
                if name not in node.entries:
                    raise KeyError(edit.path)
                del node.entries[name]
                continue
            sha = edit.sha if edit.sha is not None else self.write_blob(edit.content or b"")
            node.entries[name] = (edit.mode, edit.type, sha)
        return self._write_node(root) or EMPTY_TREE

    def _load_node(self, tree_sha: str) -> _Node:
        node = _Node()
        for entry in self.read_tree(tree_sha):
            node.entries[entry.path] = (entry.mode, entry.type, entry.sha)
        return node

    def _write_node(self, node: _Node) -> str | None:
        rows: list[tuple[str, str, str, str]] = []
        for name, value in node.entries.items():
            if isinstance(value, _Node):
                sha = self._write_node(value)
                if sha is None:  # git has no empty directories
                    continue
                rows.append(("040000", "tree", sha, name))
            else:
                rows.append((value[0], value[1], value[2], name))
        if not rows:
            return None
        return self.write_tree(rows)

    def tree_of(self, commit_sha: str) -> str:
        return self.read_commit(commit_sha).tree

    def entry_at(self, commit_sha: str, path: str) -> TreeEntry | None:
        """The tree entry at ``path`` in a commit ('' is the root tree)."""
        tree = self.tree_of(commit_sha)
        if path in ("", "/"):
            return TreeEntry("040000", "tree", tree, "", None)
        current = TreeEntry("040000", "tree", tree, "", None)
        for part in path.strip("/").split("/"):
            if current.type != "tree":
                return None
            found = next((e for e in self.read_tree(current.sha) if e.path == part), None)
            if found is None:
                return None
            current = found
        return current

    # -- commits ---------------------------------------------------------------
    def write_commit(
        self,
        tree: str,
        parents: Sequence[str],
        author: Person,
        committer: Person,
        message: str,
    ) -> str:
        _check_person(author)
        _check_person(committer)
        lines = [f"tree {tree}"]
        lines += [f"parent {p}" for p in parents]
        lines.append(f"author {author.name} <{author.email}> {author.timestamp} +0000")
        lines.append(f"committer {committer.name} <{committer.email}> {committer.timestamp} +0000")
        raw = ("\n".join(lines) + "\n\n" + message).encode()
        return self._out("hash-object", "-w", "-t", "commit", "--stdin", stdin=raw)

    def read_commit(self, sha: str) -> CommitObject:
        cached = self._commits.get(sha)
        if cached is not None:
            return cached
        raw = self._git("cat-file", "commit", sha).stdout.decode(errors="replace")
        header, _, message = raw.partition("\n\n")
        tree = ""
        parents: list[str] = []
        people: dict[str, Person] = {}
        for line in header.split("\n"):
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key in ("author", "committer"):
                m = re.fullmatch(r"(.*) <(.*)> (\d+) ([+-]\d{4})", value)
                if m:
                    people[key] = Person(m[1], m[2], int(m[3]))
        commit = CommitObject(
            sha, tree, tuple(parents), people["author"], people["committer"], message
        )
        self._commits[sha] = commit
        return commit

    def rev_list(self, include: str, exclude: Sequence[str] = ()) -> list[str]:
        """Commits reachable from ``include`` and not from ``exclude``, newest first."""
        return self._out("rev-list", "--topo-order", include, *(f"^{x}" for x in exclude)).split()

    def count(self, include: str, exclude: str) -> int:
        return int(self._out("rev-list", "--count", include, f"^{exclude}"))

    def merge_base(self, a: str, b: str) -> str | None:
        proc = self._git("merge-base", a, b, ok=(0, 1))
        return proc.stdout.decode().strip() or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        proc = self._git("merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1))
        return proc.returncode == 0

    def merge_tree(self, ours: str, theirs: str) -> str | None:
        """The tree of a clean three-way merge, or None on conflicts / no common history."""
        key = (ours, theirs)
        if key not in self._merges:
            proc = self._git(
                "merge-tree", "--write-tree", "--no-messages", ours, theirs, ok=(0, 1, 128)
            )
            out = proc.stdout.decode().split()
            self._merges[key] = out[0] if proc.returncode == 0 and out else None
        return self._merges[key]

    def diff(self, old: str | None, new: str) -> list[FileChange]:
        """Per-file changes from commit ``old`` (None: the empty tree) to commit ``new``."""
        key = (old or EMPTY_TREE, new)
        if key in self._diffs:
            return self._diffs[key]
        a = self.tree_of(old) if old else EMPTY_TREE
        b = self.tree_of(new)
        raw = self._git("diff-tree", "-r", "--no-renames", "-z", "--raw", a, b).stdout.decode()
        numstat = self._git(
            "diff-tree", "-r", "--no-renames", "-z", "--numstat", a, b
        ).stdout.decode()
        patch_text = self._git("diff-tree", "-r", "--no-renames", "-p", "--no-color", a, b).stdout
        patches = _split_patches(patch_text.decode(errors="replace"))
        stats: dict[str, tuple[int, int]] = {}
        fields = numstat.split("\0")
        for record in filter(None, fields):
            added, deleted, path = record.split("\t", 2)
            stats[path] = (
                0 if added == "-" else int(added),
                0 if deleted == "-" else int(deleted),
            )
        changes = []
        tokens = raw.split("\0")
        i = 0
        while i + 1 < len(tokens) and tokens[i]:
            meta, path = tokens[i], tokens[i + 1]
            i += 2
            _, _, old_sha, new_sha, letter = meta.lstrip(":").split()
            status = {"A": "added", "D": "removed"}.get(letter, "modified")
            adds, dels = stats.get(path, (0, 0))
            changes.append(
                FileChange(
                    path=path,
                    status=status,
                    old_sha=None if old_sha == ZERO_OID else old_sha,
                    new_sha=None if new_sha == ZERO_OID else new_sha,
                    additions=adds,
                    deletions=dels,
                    patch=patches.get(path),
                )
            )
        self._diffs[key] = changes
        return changes

    # -- refs ------------------------------------------------------------------
    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        out = self._out("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def ref(self, name: str) -> str | None:
        """The commit a fully qualified ref points at, or None."""
        return self.refs(name).get(name)

    def valid_ref_name(self, name: str) -> bool:
        proc = subprocess.run(
            ["git", "check-ref-format", name], capture_output=True, env=self._env, check=False
        )
        return proc.returncode == 0 and name.startswith("refs/") and name.count("/") >= 2

    def update_ref(self, name: str, new: str, old: str | None) -> None:
        """Point ``name`` at ``new`` if it currently is ``old`` (None: must not exist)."""
        self._git("update-ref", name, new, old or ZERO_OID)

    def update_refs(self, moves: Sequence[tuple[str, str | None, str | None]]) -> bool:
        """Apply ``(name, old, new)`` moves as one transaction: all, or none when any ref is
        not at its ``old`` (None: must not exist). ``new`` None deletes. False: none applied."""
        lines = [f"update {name} {new or ZERO_OID} {old or ZERO_OID}\n" for name, old, new in moves]
        stdin = ("start\n" + "".join(lines) + "prepare\ncommit\n").encode()
        return self._git("update-ref", "--stdin", stdin=stdin, ok=(0, 128)).returncode == 0

    def resolve(self, rev: str) -> str | None:
        """A branch, tag, full or abbreviated commit id, or ``refs/...`` name to a commit id."""
        if not rev or rev.startswith("-") or any(c in rev for c in " \t\n\0~^:"):
            return None
        candidates = [f"refs/heads/{rev}", f"refs/tags/{rev}", rev]
        if re.fullmatch(r"[0-9a-f]{7,40}", rev):
            candidates.insert(0, rev)
        for candidate in candidates:
            proc = self._git(
                "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", ok=(0, 1, 128)
            )
            if proc.returncode == 0:
                return proc.stdout.decode().strip()
        return None

    def resolve_tree(self, rev: str) -> str | None:
        """A tree id, or anything ``resolve`` accepts, to a tree id."""
        if self.object_type(rev) == "tree":
            return rev
        commit = self.resolve(rev)
        return self.tree_of(commit) if commit else None


def _split_patches(text: str) -> dict[str, str]:
    """Cut a multi-file unified diff into per-path hunks (what GitHub calls ``patch``)."""
    patches: dict[str, str] = {}
    chunks = re.split(r"^diff --git ", text, flags=re.MULTILINE)
    for chunk in chunks[1:]:
        lines = chunk.split("\n")
        header = lines[0]
        # "a/path b/path": paths have no " b/" ambiguity for the files we create.
        m = re.match(r"a/(.*) b/(.*)$", header)
        if not m:
            continue
        path = m[2]
        hunk_start = next((i for i, line in enumerate(lines) if line.startswith("@@")), None)
        if hunk_start is None:
            continue  # binary or mode-only change: GitHub omits the patch too
        patches[path] = "\n".join(lines[hunk_start:]).rstrip("\n")
    return patches


def files_to_edits(files: Mapping[str, bytes | None]) -> list[TreeEdit]:
    """Test-control helper: {path: bytes or None (delete)} to tree edits."""
    return [
        TreeEdit(path=path.strip("/"), mode="100644", type="blob", content=data)
        if data is not None
        else TreeEdit(path=path.strip("/"), mode="100644", type="blob")
        for path, data in files.items()
    ]
