"""`condabot doctor`: is this repository ready for condabot? One line per finding.

Checks, offline and in this order: the catalog (or what discovery finds without one),
every image's installer pins, the registry and repository names a release would push to,
the upstream URL, and which credentials the environment provides, by name only: a value
is never read into a message. The workflows run it first, so a setup problem fails in
seconds with its fix, not halfway through a release.

Exit status: 0 when no finding is an error; else the exit code the first error's command
would end with (3 catalog, 6 Dockerfile pins, 7 plan, 2 usage, 15 credentials).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.catalog import Catalog, Image, Registry
from bot.commands.common import Location, add_location_options, add_upstream_options, shown
from bot.discovery import Source, load_or_discover
from bot.errors import AuthError, CatalogError, CondabotError, UsageError
from bot.http.origins import url_problem
from bot.planner import check_pins
from bot.secrets import redact

MAX_REFERENCE = 255  # the distribution spec's limit on a repository name
_ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_AWS_CREDENTIALS = (
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"),
    ("AWS_PROFILE",),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI",),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",),
)


class Level(StrEnum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


class Purpose(StrEnum):
    CHECK = "check"  # no job in mind: credentials are reported, never required
    BUMP = "bump"
    RELEASE = "release"


@dataclass(frozen=True)
class Finding:
    level: Level
    check: str
    detail: str
    exit_code: int = 0  # for an error: the code its command would exit with

    def line(self) -> str:
        return f"{self.level.value:<5} {self.check}: {redact(self.detail)}"


DESCRIPTION = """\
Check that this repository is ready for condabot, offline: the catalog, every
Dockerfile's pins, registry and repository names, the upstream URL, and which
credentials the environment provides (names only, never values). One line per
finding: ok, info, warn or error."""
EPILOG = """\
exit status: 0 when nothing is an error; else the exit code of the first error's
command (3 catalog, 6 pins, 7 plan, 2 usage, 15 credentials)."""


@dataclass(frozen=True)
class Options:
    location: Location
    purpose: Purpose
    upstream_url: str  # unchecked: a bad one is a finding


def add_options(parser: argparse.ArgumentParser) -> None:
    add_location_options(parser)
    parser.add_argument(
        "--for",
        dest="purpose",
        type=Purpose,
        choices=list(Purpose),
        default=Purpose.CHECK,
        help="the job about to run: its credentials are required (default: check, which "
        "only reports them)",
    )
    add_upstream_options(parser, cache_dir=False)


def run(args: argparse.Namespace) -> int:
    options = Options(Location.from_args(args), args.purpose, args.upstream_url)
    findings = diagnose(options, os.environ)
    for finding in findings:
        print(finding.line())
    errors = [f for f in findings if f.level is Level.ERROR]
    summary = f"{len(errors)} error(s), {sum(f.level is Level.WARN for f in findings)} warning(s)"
    print(f"condabot: doctor: {summary}", file=sys.stderr)
    return errors[0].exit_code if errors else 0


def diagnose(options: Options, env: Mapping[str, str]) -> list[Finding]:
    """Every finding, in order; reads the repository and the docker config, nothing else."""
    source, findings = _catalog(options.location)
    if source is not None:
        findings += pin_findings(source)
        findings += name_findings(source.catalog, source.discovered)
        findings += credential_findings(source.catalog, options.purpose, env, docker_config(env))
    findings.append(upstream_finding(options.upstream_url))
    return findings


def _catalog(location: Location) -> tuple[Source | None, list[Finding]]:
    where = shown(location.catalog, location.root)
    try:
        if location.named and not os.path.lexists(location.catalog):
            raise CatalogError(f"no catalog at {where}", "write one with condabot init")
        source = load_or_discover(location.root, location.catalog)
    except CondabotError as exc:
        return None, [Finding(Level.ERROR, "catalog", exc.message, exc.exit_code)]
    count = len(source.catalog.images)
    if source.discovery is None:
        registries = len(source.catalog.registries)
        return source, [
            Finding(Level.OK, "catalog", f"{where}: {count} image(s), {registries} registry(ies)")
        ]
    found = [
        Finding(
            Level.INFO,
            "catalog",
            f"none at {where}: {count} image(s) discovered from "
            f"{source.discovery.searched} Dockerfile(s); condabot init writes them to it",
        )
    ]
    found += [
        Finding(Level.WARN, "dockerfile", f"skipped: {e.message}") for e in source.discovery.skipped
    ]
    return source, found


def pin_findings(source: Source) -> list[Finding]:
    """Each image's pins, read and checked against its platforms as `plan` would."""
    found = []
    for image in source.catalog.images:
        try:
            pins = source.pins(image.name)
            check_pins(source.catalog, {image.name: pins}, [image.name])
        except CondabotError as exc:
            found.append(
                Finding(Level.ERROR, "pins", f"{image.name}: {exc.message}", exc.exit_code)
            )
            continue
        if not pins:
            detail = f"{image.pin_file}: no pins yet; the next bump proposes its first pins"
            found.append(Finding(Level.OK, "pins", f"{image.name}: {detail}"))
            continue
        versions = sorted({f"{p.python}_{p.version}" if p.python else p.version.text for p in pins})
        arches = ", ".join(p.arch for p in pins)
        level = Level.OK if len(versions) == 1 else Level.WARN
        found.append(
            Finding(
                level, "pins", f"{image.name}: {image.pin_file}: {' '.join(versions)} ({arches})"
            )
        )
    return found


def name_findings(catalog: Catalog, discovered: bool) -> list[Finding]:
    """Where a release would push each image, and what a registry would refuse."""
    if not catalog.registries:
        why = "discovered images publish nowhere" if discovered else "no registries"
        return [
            Finding(
                Level.INFO,
                "names",
                f"{why}: add registries to the catalog for condabot release (README: "
                "adopting condabot)",
            )
        ]
    found = [f for r in catalog.registries.values() for f in _registry_findings(r)]
    for image in catalog.images:
        references = [_reference(catalog.registries[r], image) for r in image.registries]
        too_long = [r for r in references if len(r) > MAX_REFERENCE]
        if too_long:
            found.append(
                Finding(
                    Level.ERROR,
                    "names",
                    f"{image.name}: {too_long[0][:60]}... is longer than {MAX_REFERENCE} "
                    "characters; registries refuse it: shorten its repository",
                    CatalogError.exit_code,
                )
            )
        elif references:
            found.append(Finding(Level.OK, "names", f"{image.name}: {', '.join(references)}"))
        else:
            found.append(Finding(Level.INFO, "names", f"{image.name}: in no registry"))
    return found


def _registry_findings(registry: Registry) -> list[Finding]:
    if registry.kind == "ecr" and not _ECR_HOST.match(registry.host):
        return [
            Finding(
                Level.WARN,
                "names",
                f"registry {registry.name}: {registry.host} is not an ECR host "
                "(<account>.dkr.ecr.<region>.amazonaws.com): its region must come from AWS_REGION",
            )
        ]
    return []


def _reference(registry: Registry, image: Image) -> str:
    path = f"{registry.namespace}/{image.repository}" if registry.namespace else image.repository
    return f"{registry.host}/{path}"


def upstream_finding(url: str) -> Finding:
    problem = url_problem(url)
    if problem:
        return Finding(
            Level.ERROR, "upstream", f"{url!r} cannot be used: {problem}", UsageError.exit_code
        )
    return Finding(Level.OK, "upstream", url)


# -- credentials: names only ----------------------------------------------------------------


def docker_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The docker client's config (`$DOCKER_CONFIG/config.json`); {} when absent or unreadable."""
    path = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def credential_findings(
    catalog: Catalog, purpose: Purpose, env: Mapping[str, str], config: Mapping[str, Any]
) -> list[Finding]:
    """Which credentials each job would find, by name; missing ones are errors only for the
    job about to run (`--for`), and a pair with one half set is always an error."""
    needs = {
        Purpose.BUMP: [_github(env)],
        Purpose.RELEASE: [*_registries(catalog, env, config), _staging(env, config)],
    }
    found = []
    for job, results in needs.items():
        for name, present, problem in results:
            if problem:
                found.append(Finding(Level.ERROR, "credentials", problem, AuthError.exit_code))
            elif present:
                found.append(Finding(Level.OK, "credentials", f"{job}: {name}: {present}"))
            elif purpose is job:
                found.append(
                    Finding(
                        Level.ERROR,
                        "credentials",
                        f"{job}: {name}: none found; see README, adopting condabot",
                        AuthError.exit_code,
                    )
                )
            else:
                found.append(Finding(Level.INFO, "credentials", f"{job}: {name}: not set here"))
    return found


_Check = tuple[str, str, str]  # (what, where it was found or "", problem or "")


def _pair(env: Mapping[str, str], user: str, secret: str) -> tuple[str, str]:
    if env.get(user) and env.get(secret):
        return f"{user} and {secret}", ""
    if env.get(user) or env.get(secret):
        one, other = (user, secret) if env.get(user) else (secret, user)
        return "", f"{one} is set but {other} is not; set both, or neither"
    return "", ""


def _github(env: Mapping[str, str]) -> _Check:
    name = next((n for n in ("GITHUB_TOKEN", "GH_TOKEN") if env.get(n)), "")
    return "GitHub token (GITHUB_TOKEN)", name, ""


def _registries(
    catalog: Catalog, env: Mapping[str, str], config: Mapping[str, Any]
) -> Iterable[_Check]:
    used = {r for image in catalog.images for r in image.registries}
    for registry in (catalog.registries[r] for r in sorted(used)):
        what = f"registry {registry.name} ({registry.host})"
        if registry.kind == "dockerhub":
            present, problem = _pair(env, "DOCKERHUB_USERNAME", "DOCKERHUB_TOKEN")
            yield what, present or _in_config(config, "docker.io", registry.host), problem
        elif registry.kind in ("ecr", "ecr-public"):
            yield what, _aws(env), ""
        else:
            prefix = "CONDABOT_REGISTRY_" + re.sub(r"[^A-Z0-9]", "_", registry.name.upper())
            present, problem = _pair(env, f"{prefix}_USERNAME", f"{prefix}_PASSWORD")
            yield what, present or _in_config(config, registry.host), problem


def _staging(env: Mapping[str, str], config: Mapping[str, Any]) -> _Check:
    staging = env.get("CONDABOT_STAGING", "").strip()
    if not staging:
        return "staging registry (CONDABOT_STAGING)", "", ""
    host = staging.split("/", 1)[0]
    if staging != staging.lower():
        return (
            "staging",
            "",
            (
                f"CONDABOT_STAGING {staging!r} has upper-case letters, which registries refuse; "
                f"use {staging.lower()!r} (a GitHub owner such as ContinuumIO is continuumio on "
                "ghcr.io)"
            ),
        )
    present, problem = _pair(env, "CONDABOT_STAGING_USERNAME", "CONDABOT_STAGING_PASSWORD")
    return f"staging registry {host}", present or _in_config(config, host), problem


def _aws(env: Mapping[str, str]) -> str:
    for names in _AWS_CREDENTIALS:
        if all(env.get(n) for n in names):
            return " and ".join(names)
    return ""


def _in_config(config: Mapping[str, Any], *hosts: str) -> str:
    """Whether the docker config can log in to one of `hosts` (entries, helpers, a store)."""
    wanted = {_host(h) for h in hosts} | (
        {"index.docker.io"} if "docker.io" in {_host(h) for h in hosts} else set()
    )
    auths = {_host(k) for k in (config.get("auths") or {})}
    helpers = {_host(k) for k in (config.get("credHelpers") or {})}
    if wanted & auths:
        return "the docker config's auths"
    if wanted & helpers:
        return "a docker credential helper"
    if config.get("credsStore"):
        return "maybe the docker credential store"
    return ""


def _host(key: str) -> str:
    return re.sub(r"^https?://", "", key).split("/", 1)[0]
