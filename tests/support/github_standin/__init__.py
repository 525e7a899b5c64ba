"""A stateful stand-in for GitHub's REST API, backed by real bare git repositories.

Start it, point PyGithub at it, and drive it from tests::

    with GitHubStandin() as gh:
        gh.create_repo("acme", "images", {"README.md": b"hi\\n"})
        client = Github(base_url=gh.base_url, auth=Auth.Token("bot-token"))

Modules: ``gitstore`` (git CLI), ``model``/``state`` (domain), ``render`` (JSON shapes),
``routes`` (endpoints), ``traffic`` (log, faults, rate limits), ``server`` (HTTP and test
controls), ``openapi`` (checks responses against GitHub's OpenAPI description).
"""

from .gitstore import GitError
from .server import GitHubStandin
from .traffic import Fault, RequestRecord

__all__ = ["Fault", "GitError", "GitHubStandin", "RequestRecord"]
