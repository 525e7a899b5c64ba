"""GitHub's GraphQL endpoint (``POST /graphql``), for the operations the bot sends.

Every document is parsed and validated against GitHub's public schema (npm
``@octokit/graphql-schema``, pinned; see ``fetch_openapi.py``), so a query GitHub would
refuse is refused here too. Execution answers a small part of that schema from the
stand-in's state: ``repository(owner, name) { id ref(qualifiedName) { target { oid } } }``
and the ``updateRefs`` mutation (a list of compare-and-swap ref moves applied atomically
through one ``git update-ref --stdin`` transaction). Any other field resolves to null.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    build_schema,
    execute_sync,
    parse,
    validate,
)

from .errors import ApiError
from .fetch_openapi import graphql_schema_path
from .gitstore import ZERO_OID
from .model import Repo
from .render import node_id
from .state import State

Reply = tuple[int, Any]


@functools.cache
def schema() -> GraphQLSchema:
    # GitHub's published SDL repeats a few fields and deprecates some interface fields
    # inconsistently; graphql-core would refuse it whole, so its own checks are skipped.
    sdl = graphql_schema_path().read_text(encoding="utf-8")
    return build_schema(sdl, assume_valid=True, assume_valid_sdl=True)


def answer(state: State, login: str, body: Any) -> Reply:
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ApiError(400, "A query attribute must be specified and must be a string.")
    try:
        document = parse(body["query"])
    except GraphQLError as exc:
        return 200, {"errors": [_error(exc, "PARSE")]}
    problems = validate(schema(), document)
    if problems:
        return 200, {"errors": [_error(p, "VALIDATION") for p in problems]}
    result = execute_sync(
        schema(),
        document,
        root_value=_Root(state, login),
        variable_values=body.get("variables") or {},
        operation_name=body.get("operationName"),
    )
    reply: dict[str, Any] = {"data": result.data}
    if result.errors:
        reply["errors"] = [_error(err, None) for err in result.errors]
    return 200, reply


def _error(err: GraphQLError, kind: str | None) -> dict[str, Any]:
    out: dict[str, Any] = dict(err.formatted)
    original = err.original_error
    if isinstance(original, _Refused):
        out["type"] = original.kind
    elif kind is not None:
        out["type"] = kind
    return out


class _Refused(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Root(dict[str, Callable[..., Any]]):
    """Root fields; graphql-core's default resolver calls these with (info, **arguments)."""

    def __init__(self, state: State, login: str) -> None:
        super().__init__(repository=self._repository, updateRefs=self._update_refs)
        self.state, self.login = state, login

    def _repository(self, _info: Any, owner: str, name: str, **_: Any) -> dict[str, Any]:
        try:
            repo = self.state.repo(owner, name)
        except ApiError as exc:
            raise _Refused(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            ) from exc
        return {
            "id": node_id("R", repo.id),
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "ref": lambda _info, qualifiedName, **_: _ref(repo, qualifiedName),
        }

    def _update_refs(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        repo = self._by_node_id(input["repositoryId"])
        moves = []
        for update in input["refUpdates"]:
            name = update["name"]
            before = update.get("beforeOid")
            if before is None:  # no expectation given: whatever the ref holds now
                before = repo.git.ref(name)
            after = update["afterOid"]
            moves.append((name, _oid(before), _oid(after), bool(update.get("force"))))
        try:
            applied = self.state.update_refs(repo, self.login, moves)
        except ApiError as exc:
            raise _Refused("UNPROCESSABLE", exc.message) from exc
        if not applied:
            raise _Refused("STALE_DATA", "A ref was not at its expected value; no ref was updated.")
        return {"clientMutationId": input.get("clientMutationId")}

    def _by_node_id(self, ident: str) -> Repo:
        for repo in self.state.repos.values():
            if node_id("R", repo.id) == ident:
                return repo
        raise _Refused("NOT_FOUND", f"Could not resolve to a node with the global id of '{ident}'")


def _ref(repo: Repo, qualified: str) -> dict[str, Any] | None:
    name = qualified if qualified.startswith("refs/") else f"refs/heads/{qualified}"
    sha = repo.git.ref(name)
    if sha is None:
        return None
    return {
        "id": node_id("REF", f"{repo.id}:{name}"),
        "name": name.split("/", 2)[2],
        "prefix": name[: len(name) - len(name.split("/", 2)[2])],
        "target": {"__typename": "Commit", "oid": sha, "id": node_id("C", sha)},
    }


def _oid(value: str | None) -> str | None:
    return None if value in (None, ZERO_OID) else value
