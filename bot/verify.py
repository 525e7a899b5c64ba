"""Verify what a bump proposes: each new installer is downloaded once, streamed and
size-bounded, and its size and sha256 compared with the listing (upstream's metadata has
been wrong before). The I/O edge in front of `plan(withheld=...)`.

Only a record of each verified (sha256, size) is kept, in `<cache dir>/verified/`, never
the bytes (Anaconda installers are ~1 GB): a file is fetched once ever, however many
images share it. A mismatch is a finding: the image keeps its pins, flagged. A download
that fails is an error for that image, never a mismatch, classed as for the listings
(`bot.upstream.failures`): `UpstreamUnavailable` when transient (after the session's
retries, and a few more tries for a body cut off mid-transfer), `UpstreamRefused` when
the answer is final (404, 403, ...).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.errors import CondabotError, UpstreamUnavailable
from bot.http import HttpPolicy, Session, make_session
from bot.http.origins import split_credentials
from bot.http.response import FetchError
from bot.pins import PIN_ROOT
from bot.planner import Plan, Withheld
from bot.secrets import redact
from bot.upstream.failures import deadline_error, request_error, status_error

log = logging.getLogger(__name__)

MAX_INSTALLER_BYTES = 8 * 2**30  # the largest installer is about 1 GB
_BODY_TRIES = 3  # a body cut off mid-transfer is worth fetching again
_RECORDS = "verified"


@dataclass(frozen=True)
class Proposal:
    """One installer a plan proposes to pin, as the listing describes it."""

    filename: str
    path: str  # under the upstream root, e.g. "miniconda/<filename>"
    sha256: str
    size: int | None  # None: the plan does not say (then any size up to the cap passes)


class Status(StrEnum):
    VERIFIED = "verified"  # downloaded now; size and sha256 match the listing
    KNOWN = "known"  # verified on an earlier run: a record in the cache, nothing fetched
    MISMATCH = "mismatch"  # the bytes served are not what the listing says
    FAILED = "failed"  # could not be downloaded: an error, not a finding


@dataclass(frozen=True)
class Check:
    proposal: Proposal
    status: Status
    detail: str = ""
    error: CondabotError | None = None
    fetched: int = 0  # body bytes read for this check

    def withheld(self) -> Withheld | None:
        if self.status in (Status.VERIFIED, Status.KNOWN):
            return None
        mismatch = self.status is Status.MISMATCH
        return Withheld(self.proposal.filename, self.proposal.sha256, self.detail, mismatch)


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def withheld(self) -> tuple[Withheld, ...]:
        return tuple(w for c in self.checks if (w := c.withheld()) is not None)

    @property
    def errors(self) -> tuple[CondabotError, ...]:
        return tuple(c.error for c in self.checks if c.error is not None)

    @property
    def downloads(self) -> int:
        return sum(1 for c in self.checks if c.fetched)

    @property
    def fetched(self) -> int:
        return sum(c.fetched for c in self.checks)


def proposals(plan: Plan) -> tuple[Proposal, ...]:
    """Every distinct (file, sha256) the plan would pin anew. Pure."""
    found: dict[tuple[str, str], Proposal] = {}
    for image in plan.images:
        for change in image.changes:
            if change.to_url is None or change.to_sha is None:
                continue  # a removed arch: nothing to fetch
            path = change.to_url.removeprefix(f"{PIN_ROOT}/")
            filename = path.rsplit("/", 1)[-1]
            found.setdefault(
                (filename, change.to_sha), Proposal(filename, path, change.to_sha, change.size)
            )
    return tuple(found.values())


@dataclass
class Verifier:
    base_url: str  # upstream or its mirror, without credentials (the session holds them)
    session: Session
    cache_dir: Path

    @classmethod
    def create(cls, upstream_url: str, cache_dir: Path, policy: HttpPolicy) -> Verifier:
        # The mirror's credentials stay with the session (for its origin only), not the URL.
        # No cache_dir: the session caches nothing, so a 1 GB body streams through uncopied.
        return cls(split_credentials(upstream_url), make_session(None, policy), cache_dir)

    def verify(self, plan: Plan) -> Report:
        return self.check_all(proposals(plan))

    def check_all(self, wanted: Iterable[Proposal]) -> Report:
        return Report(tuple(self.check(p) for p in wanted))

    def check(self, proposal: Proposal) -> Check:
        if self._recorded(proposal):
            return Check(proposal, Status.KNOWN)
        limit = proposal.size or MAX_INSTALLER_BYTES
        if limit > MAX_INSTALLER_BYTES:
            detail = f"the listing says {limit} bytes, more than a download may take"
            return Check(proposal, Status.MISMATCH, detail)
        url = f"{self.base_url.rstrip('/')}/{proposal.path}"
        for attempt in range(1, _BODY_TRIES + 1):
            try:
                check = self._download(url, proposal, limit)
            except FetchError:  # the body broke off mid-transfer
                late = deadline_error(url, self.session)
                if late is None and attempt < _BODY_TRIES:
                    continue
                error = late or UpstreamUnavailable(
                    f"{url}: the body was cut off {attempt} times", "rerun later"
                )
                return _failed(proposal, error)
            if check.status is Status.VERIFIED:
                self._record(proposal)
            return check
        raise AssertionError("unreachable")

    def _download(self, url: str, proposal: Proposal, limit: int) -> Check:
        headers = {"Accept-Encoding": "identity"}  # the listing's size is the file's own
        try:
            response = self.session.get(url, headers=headers)
        except FetchError as exc:  # the session has retried already
            return _failed(proposal, request_error(url, exc, self.session))
        with response:
            error = status_error(url, response, self.session)
            if error is not None:
                return _failed(proposal, error)
            declared = response.headers.get("Content-Length") or ""
            if proposal.size and declared.isdigit() and int(declared) != proposal.size:
                detail = f"upstream serves {declared} bytes, the listing says {proposal.size}"
                return Check(proposal, Status.MISMATCH, detail)
            digest, count = hashlib.sha256(), 0
            for chunk in response.chunks(1 << 20):
                count += len(chunk)
                if count > limit:
                    detail = f"upstream serves more than the {limit} bytes the listing says"
                    return Check(proposal, Status.MISMATCH, detail, fetched=count)
                digest.update(chunk)
        return _compare(proposal, digest.hexdigest(), count)

    # -- the record of verified files ----------------------------------------------------
    def _record_path(self, sha256: str) -> Path:
        return self.cache_dir / _RECORDS / f"{sha256}.json"

    def _recorded(self, proposal: Proposal) -> bool:
        try:
            record = json.loads(self._record_path(proposal.sha256).read_text())
        except (OSError, ValueError):
            return False
        return (
            isinstance(record, dict)
            and record.get("size") in (proposal.size, None)
            and (record.get("sha256") == proposal.sha256)
        )

    def _record(self, proposal: Proposal) -> None:
        path = self._record_path(proposal.sha256)
        text = json.dumps({"sha256": proposal.sha256, "size": proposal.size,
                           "filename": proposal.filename})  # fmt: skip
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as tmp:
                tmp.write(text)
            os.replace(tmp.name, path)
        except OSError as exc:  # only costs a download next time
            log.warning("cannot record %s as verified in %s: %s", proposal.filename, path, exc)


def _compare(proposal: Proposal, sha256: str, size: int) -> Check:
    if proposal.size is not None and size != proposal.size:
        detail = f"upstream served {size} bytes, the listing says {proposal.size}"
        return Check(proposal, Status.MISMATCH, detail, fetched=size)
    if sha256 != proposal.sha256:
        detail = f"upstream served bytes with sha256 {sha256}, the listing says {proposal.sha256}"
        return Check(proposal, Status.MISMATCH, detail, fetched=size)
    log.info("verified %s: %d bytes, sha256 %s", proposal.filename, size, sha256)
    return Check(proposal, Status.VERIFIED, fetched=size)


def _failed(proposal: Proposal, error: CondabotError) -> Check:
    """Same class (so same exit code), saying what was being done."""
    what = f"downloading {proposal.filename} to verify it: {error.what}"
    hint = f"{error.hint}; the image keeps its pins until then" if error.hint else ""
    return Check(proposal, Status.FAILED, redact(error.what), type(error)(what, hint))
