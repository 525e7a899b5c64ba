"""A real distribution registry (Debian's `docker-registry`) on loopback, for tests and bench.

Each instance has its own storage directory, port and log; optional htpasswd auth. The
registry's own access log is the record of what clients did (method, path, status), so
request counts are measured at the registry side. `kill()` is SIGKILL (a crash, not a
shutdown); `start()` again brings it back on the same port over the same storage.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

BINARY = os.environ.get("CONDABOT_DOCKER_REGISTRY", "/usr/bin/docker-registry")
_ACCESS = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) (?P<size>\d+|-)'
)


class RegistryUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Access:
    method: str
    path: str
    status: int

    @property
    def is_manifest_write(self) -> bool:
        return self.method == "PUT" and "/manifests/" in self.path and self.status == 201

    @property
    def is_blob_upload(self) -> bool:
        """A finished upload: the PUT that commits a blob (mounts are POSTs)."""
        return self.method == "PUT" and "/blobs/uploads/" in self.path and self.status == 201

    @property
    def is_mount(self) -> bool:
        return self.method == "POST" and "mount=" in self.path and self.status == 201


def htpasswd_line(user: str, password: str) -> str:
    done = subprocess.run(
        ["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True
    )
    return done.stdout.strip() + "\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class TokenAuth:
    """The registry's `auth: token` settings: where clients get tokens, and whose to trust."""

    realm: str
    service: str
    issuer: str
    bundle: Path


class DistributionRegistry:
    def __init__(
        self, name: str, auth: tuple[str, str] | None = None, token: TokenAuth | None = None
    ) -> None:
        self.name = name
        self.token = token
        self._tmp = tempfile.TemporaryDirectory(prefix=f"condabot-registry-{name}-")
        self.dir = Path(self._tmp.name)
        self.port = free_port()
        self.auth = auth
        self.process: subprocess.Popen[bytes] | None = None
        self._log_mark = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.dir / "registry.log"

    def set_auth(self, user: str, password: str) -> None:
        """Rewrite htpasswd; the registry reads it at start, so restart a running one."""
        self.auth = (user, password)
        if self.process is not None:
            self.stop()
            self.start()

    def _config(self) -> Path:
        lines = [
            "version: 0.1",
            "log: {level: info, accesslog: {disabled: false}}",
            f"storage: {{filesystem: {{rootdirectory: {self.dir / 'storage'}}}, delete: {{enabled: true}}}}",
            f"http: {{addr: '{self.host}', secret: condabot-test-secret}}",
        ]
        if self.token:
            lines.append(
                f"auth: {{token: {{realm: '{self.token.realm}', service: {self.token.service}, "
                f"issuer: {self.token.issuer}, rootcertbundle: {self.token.bundle}}}}}"
            )
        elif self.auth:
            (self.dir / "htpasswd").write_text(htpasswd_line(*self.auth))
            lines.append(
                f"auth: {{htpasswd: {{realm: {self.name}, path: {self.dir / 'htpasswd'}}}}}"
            )
        config = self.dir / "config.yml"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self, timeout: float = 15.0) -> DistributionRegistry:
        if not Path(BINARY).exists():
            raise RegistryUnavailable(
                f"{BINARY} is not installed (apt-get install docker-registry)"
            )
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [BINARY, "serve", str(self._config())], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RegistryUnavailable(f"{self.name} exited: {self.log_path.read_text()[-500:]}")
            try:
                requests.get(f"http://{self.host}/v2/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        self.kill()
        raise RegistryUnavailable(f"{self.name} did not answer on {self.host} in {timeout} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- what clients did --------------------------------------------------------------
    def mark(self) -> None:
        """Count only what happens from now on."""
        self._log_mark = self.log_path.stat().st_size if self.log_path.exists() else 0

    def accesses(self) -> list[Access]:
        with self.log_path.open("rb") as log:
            log.seek(self._log_mark)
            text = log.read().decode(errors="replace")
        found = []
        for line in text.splitlines():
            match = None if line.startswith("time=") else _ACCESS.search(line)
            if match:
                found.append(Access(match["method"], match["path"], int(match["status"])))
        return found

    def manifest_writes(self) -> list[Access]:
        return [a for a in self.accesses() if a.is_manifest_write]

    def blob_uploads(self) -> list[Access]:
        return [a for a in self.accesses() if a.is_blob_upload]

    def mounts(self) -> list[Access]:
        return [a for a in self.accesses() if a.is_mount]

    def storage_blobs(self) -> dict[str, int]:
        """digest -> size of every blob stored (all repositories share one blob store)."""
        root = self.dir / "storage/docker/registry/v2/blobs/sha256"
        return (
            {f"sha256:{path.parent.name}": path.stat().st_size for path in root.glob("*/*/data")}
            if root.exists()
            else {}
        )

    def kill_after(self, predicate: str, count: int = 1) -> threading.Thread:
        """SIGKILL the registry once `count` access-log lines satisfy `predicate`
        ('blob_upload' or 'manifest_write'), from a watcher thread."""

        def watch() -> None:
            while self.running:
                hits = [a for a in self.accesses() if getattr(a, f"is_{predicate}")]
                if len(hits) >= count:
                    self.kill()
                    return
                time.sleep(0.001)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        return thread
