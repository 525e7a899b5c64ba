"""`make demo-release`: rehearse a release on this machine, end to end, with a Docker engine.

From a fresh clone: this repository's `dockerfiles/` go into a scratch git repository; the
bot bumps them (`condabot bump --local`) against the bundled upstream listings served on
loopback; the result is committed and tagged as a maintainer would release it
(`miniconda3-<version>`, `anaconda3-<version>`); then `condabot release plan`, `build`
(every image of both releases, smoke-tested, staged), `publish` (one index per image,
copied to both registries, every tag written) and `verify` run, and the report is printed.

What is real: the Dockerfiles, the catalog's images and tag rules, the bot's commands, the
Docker engine's builds and smoke tests, two distribution registries (`docker-registry`),
one behind a login, and every push, index and tag. What is simulated is printed first.
Images are removed afterwards only when this run made them (its build revisions, its
registries' hosts); the locally made Debian base is kept as a cache, like the tests do.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import docker
import requests
from docker.errors import DockerException, ImageNotFound
from ruamel.yaml import YAML

from bot.catalog import load_catalog
from bot.cli import main
from bot.pins import read_pins
from tests.harness.docker import (
    DEBIAN_TRIXIE,
    DockerUnavailable,
    connect,
    ensure_base_image,
    local_names,
)
from tests.support.bump_world import environment
from tests.support.mirror import Mirror
from tests.support.registry import DistributionRegistry, RegistryUnavailable
from tests.support.upstream_data import current_documents, publish_upstream

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-01T00:00:00Z"
NAMESPACE = "condabot"
PRODUCTS = ("miniconda3", "anaconda3")
SIMULATED = f"""\
# condabot release rehearsal. Simulated, so that it runs offline on one machine:
#   - installers: generated stand-ins of a few KB (a shell script that installs a `conda`
#     and a `python` answering the pinned versions), served on loopback; the real ones are
#     hundreds of MB on repo.anaconda.com;
#   - upstream's listings after 2023: synthetic releases named by the real scheme
#     (tests/support/upstream_data.py) on top of the real 2023 listings;
#   - "now" is {NOW}, so those releases are old enough to be proposed;
#   - Docker Hub and ECR: two local distribution registries over http on 127.0.0.1, the
#     Docker Hub one behind a login (htpasswd); staging is a namespace of the second;
#   - the base image: Debian trixie made locally by debootstrap (for the Ubuntu variant
#     too), not the digests the Dockerfiles pin; only linux/amd64 is built (arm64 needs a
#     native runner or QEMU);
#   - the GitHub release: none; the report that would go into its body is printed.
"""


@dataclass(frozen=True)
class Stage:
    root: Path
    hub: DistributionRegistry
    ecr: DistributionRegistry
    mirror: Mirror
    base: str
    summary: Path


def say(text: str) -> None:
    print(f"\n# {text}", flush=True)


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.invalid",
           "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.invalid"}  # fmt: skip
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True, env=env)  # fmt: skip
    return done.stdout.strip()


def bot(*argv: str) -> None:
    print(f"$ condabot {' '.join(argv)}", flush=True)
    code = main(list(argv))
    if code != 0:
        raise SystemExit(f"demo-release: condabot {argv[0]} {argv[1]} exited {code}")


def checkout(workdir: Path, mirror: Mirror) -> Path:
    """This repository's images in a scratch git repository, bumped by the bot."""
    root = workdir / "images"
    shutil.copytree(ROOT / "dockerfiles", root / "dockerfiles")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "images as in the clone")
    say("the bump half: condabot bump --local against the bundled listings")
    code = main(["bump", "--local", "--accept-review", "--root", str(root),
                 "--upstream-url", mirror.url, "--cache-dir", str(workdir / "cache"),
                 "--now", NOW])  # fmt: skip
    if code != 0:
        raise SystemExit(f"demo-release: the bump exited {code}")
    git(root, "commit", "-q", "-am", "chore(deps): bump installers (condabot)")
    return root


def local_registries(root: Path, hub: DistributionRegistry, ecr: DistributionRegistry) -> None:
    """The catalog's registries pointed at the two local ones; linux/amd64 only."""
    path = root / "dockerfiles" / "images.yaml"
    yaml = YAML(typ="rt")
    document = yaml.load(path.read_text())
    document["registries"] = {
        "dockerhub": {"kind": "registry", "host": hub.host, "namespace": NAMESPACE},
        "ecr": {"kind": "registry", "host": ecr.host, "namespace": NAMESPACE},
    }
    for image in document["images"]:
        image["platforms"] = ["linux/amd64"]
    with path.open("w") as out:
        yaml.dump(document, out)
    git(root, "commit", "-q", "-am", "demo: local registries, linux/amd64")


def release_tags(root: Path, products: Sequence[str]) -> list[str]:
    """`<product>-<version>` for the version each product's default image now pins."""
    catalog = load_catalog(root / "dockerfiles" / "images.yaml")
    tags = []
    for product in products:
        image = catalog.image(product)
        pins = read_pins((root / image.pin_file).read_text(), image.pin_file)
        tags.append(f"{product}-{pins[0].version.text}")
    return tags


def release(stage: Stage, tag: str) -> None:
    common = ["--root", str(stage.root), "--tag", tag, "--source", "https://example.invalid/demo"]
    say(f"release {tag}: plan, build (amd64), publish to both registries, verify")
    bot("release", "plan", *common, "--matrix")
    bot("release", "build", *common, "--platform", "linux/amd64", "--builder", "classic",
        "--build-arg", f"BASE_IMAGE={stage.base}", "--build-arg", f"UPSTREAM_URL={stage.mirror.url}")  # fmt: skip
    bot("release", "publish", *common, "--no-release-body")
    bot("release", "verify", *common)
    anonymous = requests.get(f"http://{stage.hub.host}/v2/", timeout=10).status_code
    print(f"# 'Docker Hub' {stage.hub.host} without the login: HTTP {anonymous}", flush=True)


def made_by(client: docker.DockerClient, stage: Stage) -> list[str]:
    """Local image names this run made: its registries' hosts, and builds of its commits."""
    revisions = {r[:12] for r in git(stage.root, "rev-list", "--all").splitlines()}
    prefixes = (f"{stage.hub.host}/", f"{stage.ecr.host}/")
    names = []
    for name in local_names(client):
        built = name.startswith("condabot-build/") and name.rsplit(":", 1)[-1][:12] in revisions
        if built or name.startswith(prefixes):
            names.append(name)
    return names


def remove(client: docker.DockerClient, names: Sequence[str]) -> None:
    for name in names:
        with contextlib.suppress(ImageNotFound):
            client.images.remove(name)
    print(f"# removed {len(names)} image name(s) this run made; nothing else", flush=True)


def demo_release(products: Sequence[str] = PRODUCTS) -> int:
    print(SIMULATED, end="", flush=True)
    try:
        client = connect()
    except DockerUnavailable as exc:
        print(f"demo-release: no Docker engine ({exc}); `make components` installs and starts "
              "one (as root or through sudo)", file=sys.stderr)  # fmt: skip
        return 1
    password = secrets.token_urlsafe(16)
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="condabot-demo-")))
        try:
            hub = DistributionRegistry("demo-hub", auth=("demo", password)).start()
            stack.callback(hub.close)
            ecr = DistributionRegistry("demo-ecr").start()
            stack.callback(ecr.close)
        except (RegistryUnavailable, OSError) as exc:
            print(f"demo-release: no distribution registry ({exc}); `make components` "
                  "installs docker-registry and apache2-utils", file=sys.stderr)  # fmt: skip
            return 1
        mirror = Mirror()
        mirror.start()
        stack.callback(mirror.stop)
        publish_upstream(mirror, current_documents())
        print(f"# upstream mirror {mirror.url}; 'Docker Hub' {hub.host} (login demo); "
              f"'ECR' {ecr.host}; staging {ecr.host}/staging", flush=True)  # fmt: skip
        try:
            base = ensure_base_image(client, DEBIAN_TRIXIE)
        except (DockerException, OSError, Exception) as exc:  # debootstrap missing, not root
            print(f"demo-release: cannot make the local Debian base ({exc}); run as root with "
                  "debootstrap installed (`make components`)", file=sys.stderr)  # fmt: skip
            return 1
        root = checkout(workdir, mirror)
        local_registries(root, hub, ecr)
        stage = Stage(root, hub, ecr, mirror, base, workdir / "summary.md")
        stack.callback(lambda: remove(client, made_by(client, stage)))
        env = {
            "CONDABOT_STAGING": f"{ecr.host}/staging",
            "CONDABOT_REGISTRY_DOCKERHUB_USERNAME": "demo",
            "CONDABOT_REGISTRY_DOCKERHUB_PASSWORD": password,
            "GITHUB_STEP_SUMMARY": str(stage.summary),
        }
        with environment(env):
            for tag in release_tags(root, products):
                git(root, "tag", tag)
                release(stage, tag)
        say("the report (what a release writes to the job summary and the release body)")
        print(stage.summary.read_text(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(demo_release())
