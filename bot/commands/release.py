"""`condabot release plan|build|publish|verify`: ship the images a GitHub release names."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.catalog import Registry
from bot.errors import UsageError
from bot.release.context import Context, Options, gather
from bot.release.registry import RegistryClient
from bot.release.staging import Staging

log = logging.getLogger(__name__)
DESCRIPTION = """\
Release TAG (e.g. miniconda3-26.5.3-1): every image it names, every platform,
every registry. In Actions the tag comes from $GITHUB_EVENT_PATH."""
EPILOG = """\
credentials (never printed; ~/.docker/config.json auths and helpers are the fallback):
  dockerhub   DOCKERHUB_USERNAME, DOCKERHUB_TOKEN
  ecr         AWS credentials for ecr:GetAuthorizationToken (region from the host)
  ecr-public  AWS credentials for ecr-public:GetAuthorizationToken (us-east-1)
  registry    CONDABOT_REGISTRY_<NAME>_USERNAME, CONDABOT_REGISTRY_<NAME>_PASSWORD
  staging     CONDABOT_STAGING (HOST[/NAMESPACE]), CONDABOT_STAGING_USERNAME/_PASSWORD
  report      GITHUB_TOKEN, GITHUB_API_URL, GITHUB_STEP_SUMMARY
  endpoints   AWS_ENDPOINT_URL; registry hosts on 127.0.0.1/localhost use http
"""


@dataclass(frozen=True)
class StepOptions:
    """What a step is given besides the release (`Options`): each reads only its own."""

    step: str  # plan, build, publish, verify or protect
    staging: Staging | None = None  # build, publish, verify
    matrix: bool = False  # plan: print only the Actions matrix
    github_output: bool = False  # plan, publish
    image: str | None = None  # build: only this image
    platform: str | None = None  # build: only this platform
    build_args: tuple[tuple[str, str], ...] = ()
    rebuild: bool = False
    builder: str = "auto"
    force: bool = False  # publish: move immutable tags
    release_body: bool = True  # publish: edit the GitHub release's body

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StepOptions:
        given = vars(args)  # only the step's own options are there
        return cls(
            step=args.step,
            staging=Staging.parse(args.staging) if "staging" in given else None,
            matrix=given.get("matrix", False),
            github_output=given.get("github_output", False),
            image=given.get("image"),
            platform=given.get("platform"),
            build_args=tuple(_key_value(pair) for pair in given.get("build_arg", ())),
            rebuild=given.get("rebuild", False),
            builder=given.get("builder", "auto"),
            force=given.get("force", False),
            release_body=not given.get("no_release_body", False),
        )


def _key_value(pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key:
        raise UsageError(f"--build-arg {pair!r} is not KEY=VALUE", "e.g. --build-arg FOO=bar")
    return key, value


def add_options(parser: argparse.ArgumentParser) -> None:
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    for name, help_text, options in (
        ("plan", "print the release plan (JSON) or the build matrix", _options_plan),
        ("build", "build, smoke-test and stage (image, platform) cells", _options_build),
        ("publish", "make the indexes, copy them to every registry, tag, verify", _options_publish),
        ("verify", "check every tag in every registry resolves to the plan", _staging_option),
        ("protect", "make ECR keep the build tags immutable (creates missing repositories)", _none),
    ):
        step = steps.add_parser(name, help=help_text)
        _common(step)
        options(step)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tag", help="the release tag (default: the event's tag_name)")
    parser.add_argument("--event", help="a GitHub release event (default: $GITHUB_EVENT_PATH)")
    parser.add_argument("--root", type=Path, default=Path("."), help="repository checkout")
    parser.add_argument("--catalog", default="dockerfiles/images.yaml", help="relative to --root")
    parser.add_argument("--revision", help="commit of the release (default: the tag's commit)")
    parser.add_argument(
        "--created",
        metavar="ISO8601",
        help="OCI created time, UTC if no offset (default: SOURCE_DATE_EPOCH, else the "
        "release commit's time)",
    )
    parser.add_argument(
        "--source",
        help="OCI source URL (default: the event's repository, else GITHUB_REPOSITORY, else "
        "the git remote origin's web address)",
    )
    parser.add_argument(
        "--prerelease",
        action="store_true",
        help="a prerelease: write only build and version tags, never a floating one "
        "(default: the release event's `prerelease`)",
    )
    parser.add_argument(
        "--github-release",
        action="store_true",
        default=os.environ.get("CONDABOT_GITHUB_RELEASE", "").lower() in ("1", "true", "yes"),
        help="read whether the tag's GitHub release is a prerelease or a draft from GitHub "
        "(GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL): for runs without a release event "
        "(env CONDABOT_GITHUB_RELEASE=true)",
    )
    parser.add_argument(
        "--existing-tag",
        action="append",
        default=[],
        help="an existing release tag beyond `git tag --list` (repeatable)",
    )


def _none(parser: argparse.ArgumentParser) -> None:
    pass


def _staging_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--staging",
        default=os.environ.get("CONDABOT_STAGING"),
        help="staging registry HOST[:PORT][/NAMESPACE] (env CONDABOT_STAGING)",
    )


def _options_plan(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--matrix", action="store_true", help="print only the Actions matrix")
    parser.add_argument(
        "--github-output",
        action="store_true",
        help="also write matrix=... and tag=... to $GITHUB_OUTPUT",
    )


def _options_build(parser: argparse.ArgumentParser) -> None:
    _staging_option(parser)
    parser.add_argument("--image", help="build only this image (a matrix cell)")
    parser.add_argument("--platform", help="build only this platform, e.g. linux/arm64")
    parser.add_argument(
        "--build-arg", action="append", default=[], metavar="KEY=VALUE", help="repeatable"
    )
    parser.add_argument("--rebuild", action="store_true", help="ignore an already staged build")
    parser.add_argument(
        "--builder",
        choices=["auto", "buildx", "classic"],
        default=os.environ.get("CONDABOT_BUILDER", "auto"),
        help="auto: BuildKit via docker buildx when present, else the classic builder",
    )


def _options_publish(parser: argparse.ArgumentParser) -> None:
    _staging_option(parser)
    parser.add_argument(
        "--force", action="store_true", help="move immutable tags that point elsewhere"
    )
    parser.add_argument(
        "--no-release-body", action="store_true", help="do not edit the GitHub release body"
    )
    parser.add_argument(
        "--github-output",
        action="store_true",
        help="write subjects=... (the Actions matrix of published digests, one per image and "
        "registry, for signing and provenance) to $GITHUB_OUTPUT",
    )


def run(args: argparse.Namespace) -> int:
    step = StepOptions.from_args(args)
    context = gather(
        Options(
            tag=args.tag,
            event=args.event,
            root=args.root,
            catalog=args.catalog,
            revision=args.revision,
            created=args.created,
            source=args.source,
            existing=tuple(args.existing_tag),
            prerelease=args.prerelease,
            github_release=args.github_release,
        )
    )
    steps = {
        "plan": _plan,
        "build": _build,
        "publish": _publish,
        "verify": _verify,
        "protect": _protect,
    }
    code: int = steps[step.step](step, context)
    return code


def _plan(step: StepOptions, context: Context) -> int:
    plan = context.plan
    document: Any = plan.matrix() if step.matrix else plan.to_json()
    json.dump(document, sys.stdout, indent=None if step.matrix else 2)
    sys.stdout.write("\n")
    output = os.environ.get("GITHUB_OUTPUT")
    if step.github_output and output:
        with Path(output).open("a", encoding="utf-8") as handle:
            handle.write(f"matrix={json.dumps(plan.matrix())}\ntag={plan.tag}\n")
    return 0


# docker, boto3 and PyGithub load inside the steps that use them: together they cost
# ~250 ms that `release plan` and the other steps would otherwise pay at start-up.


def _staging(step: StepOptions) -> tuple[Staging, RegistryClient]:
    from bot.release.credentials import staging_credentials

    staging = step.staging
    assert staging is not None, "build, publish and verify have --staging"
    client = RegistryClient(
        staging.host, staging_credentials(staging.host), name=f"staging ({staging.host})"
    )
    return staging, client


def _build(step: StepOptions, context: Context) -> int:
    from bot.release.build import build_all, choose_engine, connect_engine, requests_for

    context.require_checkout_at_revision()
    staging, client = _staging(step)
    cells = requests_for(
        context.plan,
        staging,
        context.root,
        image=step.image,
        platform=step.platform,
        extra_args=dict(step.build_args),
    )
    engine = choose_engine(connect_engine(), step.builder)
    for built in build_all(cells, engine, client, client.credentials, rebuild=step.rebuild):
        state = "reused" if built.reused else f"built in {built.seconds:.0f} s ({engine.name})"
        print(f"{built.image} {built.platform}: {built.ref}@{built.digest} {state}")
    return 0


def _clients(context: Context) -> dict[str, RegistryClient]:
    from bot.release.credentials import credentials_for

    clients = {}
    for image in context.plan.images:
        for target in image.targets:
            if target.registry not in clients:
                config = Registry(target.registry, target.kind, target.host, "")
                clients[target.registry] = RegistryClient(
                    target.host,
                    credentials_for(config),
                    name=f"{target.registry} ({target.host})",
                )
    return clients


def _publish(step: StepOptions, context: Context) -> int:
    from bot.release.publish import Publisher, assemble, subjects
    from bot.release.report import render
    from bot.release.verify import read_back

    staging, staging_client = _staging(step)
    clients = _clients(context)
    assembled = assemble(context.plan, staging, staging_client)
    outcomes = Publisher(staging_client, clients).publish(assembled, force=step.force)
    checks = read_back(assembled, clients)
    for outcome in outcomes:
        for target in outcome.targets:
            print(
                f"{outcome.assembled.image.name} -> {target.target.ref}@{outcome.assembled.digest}"
                f": {len(target.written)} tag(s) written, {len(target.kept)} already right"
            )
    for name, client in clients.items():
        stats = client.stats
        print(
            f"{name}: {stats.blob_uploads} blob(s) uploaded ({stats.bytes_uploaded} bytes), "
            f"{stats.blob_mounts} mounted, {stats.manifest_puts} manifest write(s)"
        )
    _report(step, context, render(context.plan, outcomes, checks))
    output = os.environ.get("GITHUB_OUTPUT")
    if step.github_output and output:
        with Path(output).open("a", encoding="utf-8") as handle:
            handle.write(f"subjects={json.dumps(subjects(assembled))}\n")
    return 0


def _report(step: StepOptions, context: Context, section: str) -> None:
    from bot.release.report import update_release_body
    from bot.summary import write_step_summary

    write_step_summary(section)
    token = os.environ.get("GITHUB_TOKEN")
    if not step.release_body or not token or not context.repository:
        log.info("release body not updated (no GITHUB_TOKEN or repository, or disabled)")
        return
    update_release_body(
        section, context.repository, context.plan.tag, token, os.environ.get("GITHUB_API_URL")
    )


def _verify(step: StepOptions, context: Context) -> int:
    from bot.release.publish import assemble
    from bot.release.verify import read_back

    staging, staging_client = _staging(step)
    clients = _clients(context)
    checks = read_back(assemble(context.plan, staging, staging_client), clients)
    print(f"verified {len(checks)} tag(s) in {len(clients)} registr(y/ies)")
    return 0


def _protect(step: StepOptions, context: Context) -> int:
    from bot.release.protect import ecr_targets, protect

    if not ecr_targets(context.plan):
        print("no ECR registry in this release: nothing to set")
        return 0
    for protection in protect(context.plan):
        print(protection)
    return 0
