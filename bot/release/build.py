"""Build each planned (image, platform) once, smoke-test it, push it to staging by digest.

Engines: BuildKit through `docker buildx` when present (SBOM and provenance attestations,
pushed by buildx itself after the smoke test ran on a `--load`ed copy), else the classic
builder through the docker SDK. Either way nothing is pulled (`--pull` off): FROM images
are local or pinned by digest and fetched by the engine's own rules.

`images.push()` of the SDK returns normally when the push fails: the error is only in the
streamed JSON, so every event is read and an `error` becomes a PublishError.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import docker
from docker.errors import APIError, ContainerError, DockerException, ImageNotFound, NotFound

from bot.errors import BuildError, PublishError
from bot.platforms import PLATFORMS
from bot.release import sbom
from bot.release.index import INSTALLER_LABEL, INSTALLER_SHA_LABEL
from bot.release.plan import BUILD_LABEL, ImageRelease, PlatformBuild, ReleasePlan
from bot.release.referrers import artifact, attach, discover
from bot.release.registry import Credentials, Manifest, RegistryClient
from bot.release.smoke import SMOKE_SCRIPT, check_smoke, machine_problem, parse_output
from bot.release.staging import Staging

log = logging.getLogger(__name__)
# The Dockerfiles take their OCI labels as build arguments (an image may lag per platform).
LABEL_ARGS = {
    "org.opencontainers.image.source": "IMAGE_SOURCE",
    "org.opencontainers.image.version": "IMAGE_VERSION",
    "org.opencontainers.image.revision": "IMAGE_REVISION",
    "org.opencontainers.image.created": "IMAGE_CREATED",
}


@dataclass(frozen=True)
class BuildRequest:
    image: ImageRelease
    platform: PlatformBuild
    context: Path
    dockerfile: str  # relative to `context`
    build_args: Mapping[str, str]
    labels: Mapping[str, str]
    local_tag: str
    staging_repository: str  # host/path
    staging_tag: str


@dataclass(frozen=True)
class Built:
    image: str
    platform: str
    ref: str  # staging reference
    digest: str
    reused: bool
    seconds: float


class Engine(Protocol):
    name: str

    def build(self, request: BuildRequest) -> str:
        """Build; returns a local image reference the smoke test can run."""

    def run(self, image: str, script: str) -> str:
        """Run `script` with /bin/sh in a container of `image`, no network; its stdout."""

    def read_file(self, image: str, path: str, limit: int = 1 << 16) -> bytes | None:
        """Up to `limit` bytes of the file at `path` in `image` (symbolic links followed),
        read without running anything; None if there is none."""

    def read_tree(self, image: str, path: str) -> dict[str, bytes] | None:
        """The regular files under the directory `path` in `image` (relative name -> bytes),
        read without running anything; None if there is no such directory."""

    def push(self, request: BuildRequest, credentials: Credentials | None) -> str:
        """Push the built image to staging; returns the pushed manifest's digest."""


def requests_for(
    plan: ReleasePlan,
    staging: Staging,
    root: Path,
    *,
    image: str | None = None,
    platform: str | None = None,
    extra_args: Mapping[str, str] | None = None,
) -> list[BuildRequest]:
    """The build cells to run: the whole plan, or the matrix cell `image` x `platform`."""
    cells = []
    for release in plan.images if image is None else (plan.image(image),):
        for build in release.platforms:
            if platform is None or build.platform == platform:
                cells.append(_request(plan, release, build, staging, root, extra_args or {}))
    if not cells:
        raise BuildError(
            f"release {plan.tag} plans no build of {image or 'any image'} for {platform}",
            "use an (image, platform) pair from `condabot release plan --matrix`",
        )
    return cells


def _request(
    plan: ReleasePlan,
    image: ImageRelease,
    platform: PlatformBuild,
    staging: Staging,
    root: Path,
    extra_args: Mapping[str, str],
) -> BuildRequest:
    context = root / image.context
    labels = dict(image.labels)
    args = {LABEL_ARGS[k]: v for k, v in labels.items() if k in LABEL_ARGS}
    args.update(image.build_args)
    args.update(extra_args)
    labels.update(installer_labels(image, platform, args))
    return BuildRequest(
        image=image,
        platform=platform,
        context=context,
        dockerfile=(root / image.dockerfile).relative_to(context).as_posix(),
        build_args=args,
        labels=labels,
        local_tag=f"condabot-build/{image.name}:{plan.revision[:12]}-"
        + (f"build{plan.build}-" if plan.build > 1 else "")
        + platform.oci_arch,
        staging_repository=f"{staging.host}/{staging.repository(image)}",
        staging_tag=staging.tag(plan.revision, platform, plan.build),
    )


def installer_labels(
    image: ImageRelease, platform: PlatformBuild, args: Mapping[str, str]
) -> dict[str, str]:
    """The installer this platform's build installs, as labels: the pin, or the build
    arguments that replace it. The Dockerfile checks the file against that sha256 and the
    smoke test checks the image's record against the labels."""
    suffix = PLATFORMS[platform.platform].arg_suffix if platform.platform in PLATFORMS else ""
    pin = image.installer(platform.arch)
    sha = args.get(f"SHA256SUM_{suffix}") or (pin.sha256 if pin else "")
    url = args.get(f"INSTALLER_URL_{suffix}") or ""
    filename = url.rsplit("/", 1)[-1] if url else (pin.filename if pin else "")
    labels = {INSTALLER_LABEL: filename, INSTALLER_SHA_LABEL: sha}
    return {key: value for key, value in labels.items() if value}


def build_all(
    requests: Iterable[BuildRequest],
    engine: Engine,
    staging: RegistryClient,
    credentials: Credentials | None,
    *,
    rebuild: bool = False,
) -> list[Built]:
    return [build_one(r, engine, staging, credentials, rebuild=rebuild) for r in requests]


def build_one(
    request: BuildRequest,
    engine: Engine,
    staging: RegistryClient,
    credentials: Credentials | None,
    *,
    rebuild: bool = False,
) -> Built:
    started = time.monotonic()
    ref = f"{request.staging_repository}:{request.staging_tag}"
    repository = request.staging_repository.split("/", 1)[1]
    existing = None if rebuild else staging.manifest_digest(repository, request.staging_tag)
    if existing and _same_build(staging, repository, existing, request):
        log.info("%s is already built and staged at %s", ref, existing)
        return Built(request.image.name, request.platform.platform, ref, existing, True, 0.0)
    local = engine.build(request)
    output = engine.run(local, SMOKE_SCRIPT)
    check_smoke(output, request.image, request.platform, request.build_args, request.labels)
    check_interpreter(engine, local, output, request)
    digest = engine.push(request, credentials)
    attach_sbom(engine, local, staging, repository, digest, request, output)
    seconds = time.monotonic() - started
    log.info("built %s in %.0f s, staged as %s", ref, seconds, digest)
    return Built(request.image.name, request.platform.platform, ref, digest, False, seconds)


def check_interpreter(engine: Engine, image: str, output: str, request: BuildRequest) -> None:
    """The image's Python is an executable of the platform's machine (for a script, the
    interpreter its `#!` line names): an image of another architecture never passes, even
    one that runs here under emulation."""
    found = parse_output(output)
    path = found.get("python_real") or found.get("python_path", "")
    problem = None
    for _ in range(3):  # a script's interpreter may itself be a script's
        header = engine.read_file(image, path) if path else None
        if header is None:
            problem = f"cannot read {path or 'python'} in the image"
            break
        if header.startswith(b"#!"):
            path = header[2:].split(b"\n", 1)[0].split()[0].decode(errors="replace")
            continue
        problem = machine_problem(header, path, request.platform.arch)
        break
    if problem:
        raise BuildError(
            f"smoke test of {request.image.name} for {request.platform.platform} failed: {problem}",
            "the image was not pushed; build it from a base of that platform",
        )


def _same_build(
    staging: RegistryClient, repository: str, digest: str, request: BuildRequest
) -> bool:
    """A staged image is reused only if it carries every label this build would give it
    (revision, version, build number, installer) and its SBOM is attached."""
    manifest = image_manifest(staging, repository, digest, request.platform)
    if manifest is None:
        return False
    config = json.loads(staging.get_blob(repository, manifest.document["config"]["digest"]))
    labels = (config.get("config") or {}).get("Labels") or {}
    return all(labels.get(k) == v for k, v in request.labels.items()) and bool(
        discover(staging, repository, manifest.digest, sbom.MEDIA_TYPE)
    )


def image_manifest(
    client: RegistryClient, repository: str, digest: str, platform: PlatformBuild
) -> Manifest | None:
    """The image manifest of a staged platform: the manifest itself, or (buildx) the entry
    of its index for the platform."""
    manifest = client.get_manifest(repository, digest)
    if manifest is None or not manifest.is_index:
        return manifest
    want = platform.platform.split("/")[:2]
    for entry in manifest.children():
        found = entry.get("platform") or {}
        if [found.get("os"), found.get("architecture")] == want:
            return client.get_manifest(repository, entry["digest"])
    return None


def attach_sbom(
    engine: Engine,
    image: str,
    staging: RegistryClient,
    repository: str,
    pushed: str,
    request: BuildRequest,
    smoke_output: str,
) -> str:
    """Read what the built image holds, write its SBOM and attach it to the staged image
    manifest (which publish copies, by digest, with the image). Returns its digest."""
    subject = image_manifest(staging, repository, pushed, request.platform)
    if subject is None:
        raise PublishError(f"staging lost {repository}@{pushed} right after the push", "rerun")
    prefix = parse_output(smoke_output).get("prefix", "/opt/conda")
    contents = read_contents(engine, image, prefix)
    labels = request.labels
    created = labels.get("org.opencontainers.image.created", "")
    build = labels.get(BUILD_LABEL, "1")
    about = sbom.Subject(
        name=request.image.targets[0].repository.rsplit("/", 1)[-1]
        if request.image.targets
        else request.image.name,
        version=f"{request.image.version}_build{build}",
        digest=subject.digest,
        platform=request.platform.platform,
    )
    payload = sbom.document(about, contents, created)
    annotations = {"org.opencontainers.image.created": created, PLATFORM_ANNOTATION: about.platform}
    item = artifact(subject, sbom.MEDIA_TYPE, payload, sbom.FILENAME, annotations)
    attach(staging, repository, item)
    log.info(
        "SBOM %s (%d components) attached to %s",
        item.digest,
        payload.count(b'"bom-ref"'),
        subject.digest,
    )
    return item.digest


def read_contents(engine: Engine, image: str, prefix: str) -> sbom.Contents:
    """What the SBOM lists, from the image's files (nothing is run)."""
    meta = engine.read_tree(image, f"{prefix.rstrip('/')}/conda-meta") or {}
    status = engine.read_file(image, "/var/lib/dpkg/status", limit=_STATUS_LIMIT) or b""
    os_release = engine.read_file(image, "/etc/os-release") or engine.read_file(
        image, "/usr/lib/os-release"
    )
    record = engine.read_file(image, f"{prefix.rstrip('/')}/.condabot-installer") or b""
    return sbom.Contents(
        conda=sbom.parse_conda_meta(meta),
        debs=sbom.parse_dpkg_status(status.decode(errors="replace")),
        os_release=sbom.parse_os_release(os_release.decode(errors="replace"))
        if os_release
        else None,
        installer=sbom.parse_installer_record(record.decode(errors="replace")),
    )


# -- the classic builder (docker SDK) ------------------------------------------------------


class ClassicEngine:
    name = "classic"

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client

    def build(self, request: BuildRequest) -> str:
        """Build untagged, check the image is for the planned platform, then tag it: a
        build that went wrong never leaves the local name on another architecture's image
        (this engine builds `FROM` a base of another architecture without a word)."""
        try:
            stream = self.client.api.build(
                path=str(request.context),
                dockerfile=request.dockerfile,
                buildargs={**platform_args(request.platform), **request.build_args},
                labels=dict(request.labels),
                platform=request.platform.platform,
                network_mode="host",
                pull=False,
                rm=True,
                forcerm=True,
                decode=True,
            )
            image_id = _follow_build(stream, request)
            architecture = self.client.images.get(image_id).attrs.get("Architecture")
            if architecture != request.platform.oci_arch:
                with contextlib.suppress(DockerException):
                    self.client.api.remove_image(image_id)
                raise BuildError(
                    f"building {request.image.name} for {request.platform.platform} made a "
                    f"linux/{architecture} image: its base is for another architecture",
                    f"give the build a base for {request.platform.platform} (a multi-arch "
                    "base pinned by digest, or --build-arg BASE_IMAGE=...)",
                )
            repository, tag = request.local_tag.rsplit(":", 1)
            self.client.api.tag(image_id, repository, tag)
        except (APIError, DockerException) as exc:
            raise BuildError(
                f"the Docker Engine refused to build {request.image.name}: {exc}",
                "check that the engine runs and the base image is local or reachable",
            ) from exc
        return request.local_tag

    def read_file(self, image: str, path: str, limit: int = 1 << 16) -> bytes | None:
        container = self.client.containers.create(image, entrypoint=["/"], network_mode="none")
        try:
            for _ in range(8):  # symbolic links, each resolved by the engine's stat
                try:
                    stream, stat = container.get_archive(path, chunk_size=limit + 1024)
                except (ImageNotFound, NotFound):
                    return None
                target = (stat or {}).get("linkTarget") or ""
                if not target or int((stat or {}).get("mode", 0)) & _GO_SYMLINK == 0:
                    return _first_member(stream, limit)
                path = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            return None
        finally:
            container.remove(force=True)

    def read_tree(self, image: str, path: str) -> dict[str, bytes] | None:
        container = self.client.containers.create(image, entrypoint=["/"], network_mode="none")
        try:
            try:
                stream, _ = container.get_archive(path)
            except (ImageNotFound, NotFound):
                return None
            files = {}
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
                for member in tar:
                    handle = tar.extractfile(member) if member.isfile() else None
                    if handle is not None:
                        files[member.name.split("/", 1)[-1]] = handle.read()
            return files
        finally:
            container.remove(force=True)

    def run(self, image: str, script: str) -> str:
        try:
            output = self.client.containers.run(
                image,
                entrypoint=["/bin/sh", "-c"],
                command=[script],
                network_mode="none",
                remove=True,
                stdout=True,
                stderr=False,
            )
        except ContainerError as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
            raise BuildError(
                f"smoke test of {image} failed (exit {exc.exit_status}): {stderr.strip()[:300]}",
                "the image does not start or lacks conda; see the build log (-vv)",
            ) from exc
        except (ImageNotFound, APIError) as exc:
            raise BuildError(f"cannot run {image} for its smoke test: {exc}") from exc
        return bytes(output).decode(errors="replace")

    def push(self, request: BuildRequest, credentials: Credentials | None) -> str:
        self.client.api.tag(request.local_tag, request.staging_repository, request.staging_tag)
        auth = None
        if credentials:
            auth = {"username": credentials.username, "password": credentials.password}
        events = self.client.api.push(
            request.staging_repository,
            tag=request.staging_tag,
            stream=True,
            decode=True,
            auth_config=auth,
        )
        return digest_from_push(events, f"{request.staging_repository}:{request.staging_tag}")


_GO_SYMLINK = 1 << 27  # Go's os.ModeSymlink, in the engine's stat of a path
_STATUS_LIMIT = 64 << 20  # dpkg's status file: a few MB even in a full desktop system
PLATFORM_ANNOTATION = "io.condabot.platform"


def platform_args(platform: PlatformBuild) -> dict[str, str]:
    """The build arguments BuildKit sets for the target platform, which the classic builder
    leaves unset: a Dockerfile that uses them builds the same under either engine."""
    os_name, arch, *variant = platform.platform.split("/")
    return {
        "TARGETPLATFORM": platform.platform,
        "TARGETOS": os_name,
        "TARGETARCH": arch,
        "TARGETVARIANT": variant[0] if variant else "",
    }


def _first_member(stream: Iterable[bytes], limit: int) -> bytes:
    """The first `limit` bytes of the first file of a tar stream. The stream is read to its
    end (an abandoned archive response keeps the engine from removing the image), keeping
    only what is needed."""
    buffer = b""
    for chunk in stream:
        if len(buffer) < 512 + limit:
            buffer += chunk
    header = buffer[:512]
    size = int(header[124:136].strip(b"\0 ") or b"0", 8)
    return buffer[512 : 512 + min(size, limit)]


def _follow_build(events: Iterable[Mapping[str, Any]], request: BuildRequest) -> str:
    image_id = ""
    for event in events:
        if "stream" in event:
            log.debug("build: %s", str(event["stream"]).rstrip())
        if "error" in event:
            raise BuildError(
                f"building {request.image.name} for {request.platform.platform} failed: "
                f"{str(event['error']).strip()[:300]}",
                "rerun with -vv for the build log",
            )
        image_id = (event.get("aux") or {}).get("ID", image_id)
    if not image_id:
        raise BuildError(f"building {request.image.name} produced no image", "rerun with -vv")
    return image_id


def digest_from_push(events: Iterable[Mapping[str, Any]], ref: str) -> str:
    """The pushed digest, from the SDK's push stream; PublishError on any error event."""
    digest = ""
    for event in events:
        if "error" in event or "errorDetail" in event:
            detail = event.get("errorDetail") or {}
            message = str(event.get("error") or detail.get("message") or event).strip()
            hint = "rerun the build job"
            if any(w in message.lower() for w in ("unauthorized", "authentication", "denied")):
                hint = "check CONDABOT_STAGING_USERNAME/CONDABOT_STAGING_PASSWORD"
            raise PublishError(f"pushing {ref} to staging failed: {message[:300]}", hint)
        digest = str((event.get("aux") or {}).get("Digest") or digest)
    if not digest.startswith("sha256:"):
        raise PublishError(f"pushing {ref} reported no digest", "rerun the build job")
    return digest


# -- BuildKit through docker buildx ----------------------------------------------------------


class BuildxEngine:
    """`docker buildx build`: --load for the smoke test, then --push with attestations."""

    name = "buildx"

    def __init__(self, client: docker.DockerClient, docker_cli: str = "docker") -> None:
        self.classic = ClassicEngine(client)  # runs the smoke test container
        self.cli = docker_cli

    def _command(self, request: BuildRequest, *output: str) -> list[str]:
        command = [self.cli, "buildx", "build", "--platform", request.platform.platform]
        command += ["--file", str(request.context / request.dockerfile)]
        for key, value in request.build_args.items():
            command += ["--build-arg", f"{key}={value}"]
        for key, value in request.labels.items():
            command += ["--label", f"{key}={value}"]
        return [*command, *output, str(request.context)]

    def build(self, request: BuildRequest) -> str:
        self._run(self._command(request, "--load", "--tag", request.local_tag), request)
        return request.local_tag

    def run(self, image: str, script: str) -> str:
        return self.classic.run(image, script)

    def read_file(self, image: str, path: str, limit: int = 1 << 16) -> bytes | None:
        return self.classic.read_file(image, path, limit)

    def read_tree(self, image: str, path: str) -> dict[str, bytes] | None:
        return self.classic.read_tree(image, path)

    def push(self, request: BuildRequest, credentials: Credentials | None) -> str:
        if credentials:
            host = request.staging_repository.split("/", 1)[0]
            subprocess.run(
                [self.cli, "login", host, "--username", credentials.username, "--password-stdin"],
                input=credentials.password,
                capture_output=True,
                text=True,
                check=True,
            )
        with tempfile.TemporaryDirectory() as work:
            metadata = Path(work) / "metadata.json"
            ref = f"{request.staging_repository}:{request.staging_tag}"
            self._run(
                self._command(
                    request,
                    "--push",
                    "--tag",
                    ref,
                    "--provenance=mode=max",
                    "--sbom=true",
                    "--metadata-file",
                    str(metadata),
                ),
                request,
            )
            digest = str(json.loads(metadata.read_text()).get("containerimage.digest", ""))
        if not digest.startswith("sha256:"):
            raise PublishError(f"buildx pushed {ref} but reported no digest", "rerun the build")
        return digest

    def _run(self, command: list[str], request: BuildRequest) -> None:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        log.debug("buildx: %s", done.stderr[-4000:])
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise BuildError(
                f"buildx failed for {request.image.name} {request.platform.platform}: {tail[:300]}",
                "rerun with -vv for the build log",
            )


def choose_engine(client: docker.DockerClient, wanted: str | None = None) -> Engine:
    """`CONDABOT_BUILDER`: auto (buildx when present), buildx or classic."""
    wanted = wanted or os.environ.get("CONDABOT_BUILDER", "auto")
    if wanted == "classic":
        return ClassicEngine(client)
    cli = shutil.which("docker")
    has_buildx = cli is not None and _buildx_works(cli)
    if wanted == "buildx" and not has_buildx:
        raise BuildError("CONDABOT_BUILDER=buildx but `docker buildx` is not available")
    if has_buildx and cli is not None:
        return BuildxEngine(client, cli)
    return ClassicEngine(client)


def _buildx_works(cli: str) -> bool:
    done = subprocess.run([cli, "buildx", "version"], capture_output=True, check=False)
    return done.returncode == 0


def connect_engine() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=1800)
        client.ping()
    except DockerException as exc:
        raise BuildError(
            f"cannot reach the Docker Engine: {exc}", "start dockerd or set DOCKER_HOST"
        ) from exc
    return client
