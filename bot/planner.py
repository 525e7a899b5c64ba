"""Decide, per image, how its installer pins should move. Pure: time is an input.

All pinned arches of an image move to one (version, flavour) together, or none moves.
An arch upstream no longer builds at that version is dropped as its own, flagged kind;
a pin whose sha256 is not upstream's for that filename is always reported, frozen or not.
Upstream's default flavour is read from the primary arches' `-latest-` aliases only; while
they name unlisted bytes or disagree, upstream is mid-upload and default-following images
wait. A default-following line never moves to a lower Python. An installer that failed
verification (`Withheld`) is never proposed: its image keeps its pins.

A Python line (an image with a pinned flavour and its own pins file) stays on its flavour:
when upstream's newest release has no installer of that flavour, the line is flagged as
ended, as a dropped arch is. A line whose pins file holds no pins yet gets its first pins
proposed: the newest release of its flavour that has every platform it builds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.catalog import Catalog, Image
from bot.errors import PlanError
from bot.pins import PIN_ROOT, Pin, PinFormat
from bot.platforms import BY_ARCH
from bot.upstream.model import Installer, InstallerName, Listing, Product
from bot.versions import Version

SCHEMA = "condabot.plan/1"
# Upstream uploads one arch at a time; a missing arch only counts as ended after this long.
ARCH_GRACE = timedelta(days=2)
# Upstream's default flavour is what these arches' `-latest-` aliases name. Other arches'
# aliases stop moving when the arch ends (s390x stayed on py312), so they never count.
PRIMARY_ARCHES = ("x86_64", "aarch64")
_MAX_SKIP_NOTES = 3


class Kind(StrEnum):
    """What a plan says about an image; the headline is the first that applies, in this order."""

    CHECKSUM_CHANGED = "checksum-changed"  # same filename, different sha256 upstream
    STALE_HASH = "stale-hash"  # the pinned sha256 is another upstream file's
    UNVERIFIED = "unverified"  # the proposed installer's bytes are not what the listing says
    DROP_ARCH = "drop-arch"  # the bump leaves an arch that upstream stopped building
    FLAVOUR_ENDED = "flavour-ended"  # a Python line: upstream's newest release lacks its flavour
    FLAVOUR_CHANGE = "flavour-change"  # the bump changes the Python flavour
    MIXED_VERSIONS = "mixed-versions"  # arches pinned at different releases
    FIRST_PINS = "first-pins"  # a new Python line: its pins file gets its first pins
    BUMP = "bump"
    WAITING = "waiting"  # something newer exists but policy holds it back for now
    FROZEN = "frozen"
    NEW_FLAVOUR = "new-flavour-available"  # a pinned-flavour image: the default moved on
    UP_TO_DATE = "up-to-date"

    @property
    def alarming(self) -> bool:
        return self in (Kind.CHECKSUM_CHANGED, Kind.STALE_HASH, Kind.UNVERIFIED)

    @property
    def needs_review(self) -> bool:
        """A human must look before this goes in: `bump --local` exits 17 on it."""
        return self.alarming or self in (Kind.DROP_ARCH, Kind.FLAVOUR_CHANGE)

    @property
    def rank(self) -> int:
        """0 for the most severe kind: the order the headline is chosen in."""
        return _ORDER[self]

    @property
    def tag(self) -> str:
        """The upper-case tag its warnings start with (`STALE HASH: ...`)."""
        return _TAGS.get(self, self.value.replace("-", " ").upper())


_TAGS = {
    Kind.CHECKSUM_CHANGED: "CHECKSUM CHANGED UPSTREAM",
    Kind.UNVERIFIED: "NOT VERIFIED",
    Kind.DROP_ARCH: "ARCH DROPPED",
}


_ORDER = {kind: i for i, kind in enumerate(Kind)}


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"  # a reviewer must not miss it: bump prints it, PR bodies list it


@dataclass(frozen=True)
class Note:
    """A line a plan says about an image; a loud one (a warning) needs a human."""

    severity: Severity
    text: str  # a warning's starts with its tag: `STALE HASH: ...`
    kind: Kind | None = None  # the finding it explains, if it explains one

    @property
    def loud(self) -> bool:
        return self.severity is Severity.WARNING

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PinChange:
    """How one arch's pin moves: from which installer and checksum to which."""

    arch: str
    from_url: str  # "": no pin yet (first-pins)
    to_url: str | None  # None: this arch's pin is removed (drop-arch)
    from_sha: str
    to_sha: str | None
    size: int | None = None
    mtime: float | None = None
    # What the URLs name, for labels: derived from them, so not compared.
    from_name: InstallerName | None = field(default=None, compare=False)
    to_name: InstallerName | None = field(default=None, compare=False)

    @property
    def removes(self) -> bool:
        return self.to_url is None

    @property
    def adds(self) -> bool:
        return not self.from_url

    @property
    def from_label(self) -> str:
        return "(none)" if self.from_name is None else self.from_name.label

    @property
    def to_label(self) -> str:
        return "(removed)" if self.to_name is None else self.to_name.label


@dataclass(frozen=True)
class Waiting:
    """A release the plan holds back, and why (too young, upstream mid-upload...)."""

    version: Version | None  # None: no release to name yet (see `release`)
    python: str | None
    age: timedelta
    reason: str

    @property
    def release(self) -> str:
        """What is waited for, as the JSON plan and the dashboard write it: a version, else
        upstream's `latest` (mid-upload, no flavour known) or `-` (a line's first release)."""
        if self.version is None:
            return "latest" if self.python is None else "-"
        return self.version.text

    @property
    def label(self) -> str:
        return self.release if self.version is None else self.version.label(self.python)


@dataclass(frozen=True)
class ImagePlan:
    """What the plan does for one image: its kind, versions, pin changes and notes."""

    image: str
    dockerfile: str  # the file holding the pins: a line's pins file, else its Dockerfile
    product: Product
    kind: Kind
    flags: tuple[Kind, ...]  # every kind that applies, headline first
    from_version: Version | None  # None: no pins yet (a new line)
    from_python: str | None
    to_version: Version | None  # None: the release does not change
    to_python: str | None
    age: timedelta | None  # age of the target release
    changes: tuple[PinChange, ...] = ()
    drop_platforms: tuple[str, ...] = ()  # OCI platforms to remove from the catalog
    waiting: tuple[Waiting, ...] = ()
    notes: tuple[Note, ...] = ()

    @property
    def from_label(self) -> str:
        return "(none)" if self.from_version is None else self.from_version.label(self.from_python)

    @property
    def to_label(self) -> str:
        return "-" if self.to_version is None else self.to_version.label(self.to_python)

    @property
    def alarming(self) -> bool:
        return any(k.alarming for k in self.flags)

    @property
    def needs_review(self) -> bool:
        return any(k.needs_review for k in self.flags)

    @property
    def held(self) -> bool:
        """Pins kept for now although an update may be due (mid-upload, an installer not
        verified or not downloadable, a release too young): an open PR stays as it is."""
        return not self.changes and (bool(self.waiting) or Kind.UNVERIFIED in self.flags)


@dataclass(frozen=True)
class Withheld:
    """An installer that must not be proposed: its bytes did not match the listing
    (`mismatch`), or they could not be fetched to check (a wait, not an alarm)."""

    filename: str
    sha256: str
    reason: str
    mismatch: bool


@dataclass(frozen=True)
class Plan:
    """Every image's plan, made at one moment (`now`)."""

    now: datetime
    images: tuple[ImagePlan, ...]

    def with_changes(self) -> tuple[ImagePlan, ...]:
        return tuple(i for i in self.images if i.changes)

    def needs_attention(self) -> bool:
        return any(i.changes or i.alarming for i in self.images)

    def to_json(self) -> dict[str, Any]:
        return plan_to_json(self)


# -- indexing the listing ---------------------------------------------------------------


@dataclass
class _Index:
    """The listing's installers by filename, by sha256, and by product, flavour and version."""

    by_filename: dict[str, Installer] = field(default_factory=dict)
    by_sha: dict[str, Installer] = field(default_factory=dict)
    # (product, flavour) -> version -> arch -> installer, Linux .sh only
    releases: dict[tuple[Product, str | None], dict[Version, dict[str, Installer]]] = field(
        default_factory=dict
    )
    _sorted: dict[tuple[Product, str | None], list[Version]] = field(default_factory=dict)

    @classmethod
    def build(cls, listing: Listing) -> _Index:
        index = cls()
        for installer in listing.installers:
            index.by_filename[installer.filename] = installer
            index.by_sha.setdefault(installer.sha256, installer)
            if (installer.os, installer.name.ext) != ("Linux", "sh"):
                continue
            versions = index.releases.setdefault((installer.product, installer.python), {})
            versions.setdefault(installer.version, {})[installer.arch] = installer
        return index

    def newest_first(self, product: Product, python: str | None) -> list[Version]:
        key = (product, python)
        if key not in self._sorted:
            self._sorted[key] = sorted(self.releases.get(key, {}), reverse=True)
        return self._sorted[key]

    def release(
        self, product: Product, python: str | None, version: Version
    ) -> dict[str, Installer]:
        return self.releases.get((product, python), {}).get(version, {})

    def last_for_arch(self, product: Product, python: str | None, arch: str) -> Version | None:
        for version in self.newest_first(product, python):
            if arch in self.release(product, python, version):
                return version
        return None

    def last_for_arches(
        self, product: Product, python: str | None, arches: Collection[str]
    ) -> Version | None:
        found = [self.last_for_arch(product, python, arch) for arch in arches]
        return max((v for v in found if v is not None), default=None)

    def releases_of(self, product: Product, arches: Collection[str]) -> dict[Version, float]:
        """Every release of the product with an installer for one of `arches`, any flavour:
        version -> mtime of its newest such installer."""
        found: dict[Version, float] = {}
        for (key_product, _), versions in self.releases.items():
            if key_product is not product:
                continue
            for version, installers in versions.items():
                times = [i.mtime for a, i in installers.items() if a in arches]
                if times:
                    found[version] = max(found.get(version, 0.0), *times)
        return found


# -- planning -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """The release an image moves to: its version, flavour and installer per arch."""

    version: Version
    python: str | None
    installers: dict[str, Installer]
    age: timedelta


@dataclass
class _Draft:
    """What one image's planning accumulates before it is frozen into an ImagePlan."""

    flags: set[Kind] = field(default_factory=set)
    notes: list[Note] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    mid_upload: bool = False  # upstream's default flavour is unknown until the upload ends

    def copy(self) -> _Draft:
        return _Draft(set(self.flags), list(self.notes), list(self.waiting), self.mid_upload)

    def note(self, text: str, kind: Kind | None = None) -> None:
        """Context; a note that explains a kind flags it."""
        if kind is not None:
            self.flags.add(kind)
        self.notes.append(Note(Severity.INFO, text, kind))

    def warn(self, kind: Kind, text: str) -> None:
        """A finding a reviewer must not miss: flagged, and said after the kind's tag."""
        self.flags.add(kind)
        self.notes.append(Note(Severity.WARNING, f"{kind.tag}: {text}", kind))


def plan(
    catalog: Catalog,
    pins: Mapping[str, Sequence[Pin]],
    listing: Listing,
    now: datetime,
    images: Iterable[str] | None = None,
    withheld: Iterable[Withheld] = (),
) -> Plan:
    """Plan every catalog image (or only those named) from its pins, keyed by image name.

    An image whose target needs a `withheld` installer keeps its pins.
    """
    if now.tzinfo is None:
        raise PlanError("the planning time has no time zone", "pass an aware datetime (UTC)")
    selected = check_pins(catalog, pins, images)
    index = _Index.build(listing)
    held = {(w.filename, w.sha256): w for w in withheld}
    plans = tuple(_plan_image(i, pins[i.name], listing, index, now, held) for i in selected)
    return Plan(now.astimezone(UTC), plans)


def check_pins(
    catalog: Catalog, pins: Mapping[str, Sequence[Pin]], images: Iterable[str] | None = None
) -> tuple[Image, ...]:
    """The selected images, once each has pins of its product for every platform it builds.

    Needs no listing: callers run it before fetching upstream, to fail fast.
    """
    wanted = None if images is None else set(images)
    selected = tuple(i for i in catalog.images if wanted is None or i.name in wanted)
    for image in selected:
        image_pins = pins.get(image.name)
        if not image_pins and _new_line(image):
            continue  # its first pins are proposed
        if not image_pins:
            raise PlanError(
                f"{image.pin_file}: no installer pins found for image {image.name!r}",
                "pin the installer as # renovate + ARG INSTALLER_URL_<ARCH>/SHA256SUM_<ARCH>",
            )
        _check_pins(image, image_pins)
    return selected


def _new_line(image: Image) -> bool:
    """A Python line whose pins file holds no pins yet: the bot proposes the first ones."""
    return image.pins is not None and not image.follows_default and not image.frozen


def _plan_image(
    image: Image,
    pins: Sequence[Pin],
    listing: Listing,
    index: _Index,
    now: datetime,
    withheld: Mapping[tuple[str, str], Withheld],
) -> ImagePlan:
    if not pins and _new_line(image):
        return _first_pins(image, index, now, withheld)
    by_arch = _check_pins(image, pins)
    current = max(pins, key=lambda p: (p.version, -_arch_rank(p.arch)))
    draft = _Draft()
    _check_integrity(by_arch, index, draft)
    versions = {p.version for p in pins}
    if len(versions) > 1 or len({p.python for p in pins}) > 1:
        listed = ", ".join(f"{a} {p.name.label}" for a, p in by_arch.items())
        draft.note(
            f"the Dockerfile pins different releases per arch: {listed}", Kind.MIXED_VERSIONS
        )
    default = _upstream_default(image.product, listing, now)
    flavour = _target_flavour(image, current.python, default, draft)
    if image.frozen:
        newest = _choose(image, current, flavour, by_arch, index, now, _Draft())
        return _frozen(image, current, newest, draft)
    if draft.mid_upload:
        return _finish(image, current, None, (), draft)
    if not image.follows_default:
        _check_flavour_lives(image, by_arch, index, now, draft)
    target = _choose(image, current, flavour, by_arch, index, now, draft)
    if target is None:
        target = _same_release(current, index, now)
    moved = draft.copy()  # what planning adds past here holds only if the move is proposed
    changes = _changes(image, by_arch, target, index, moved) if target else ()
    blocked = [withheld[k] for c in changes if (k := _proposes(c)) and k in withheld]
    if target and blocked:
        _hold(current, target, blocked, draft)
        return _finish(image, current, None, (), draft)
    return _finish(image, current, target, changes, moved)


def _proposes(change: PinChange) -> tuple[str, str] | None:
    if change.to_url is None or change.to_sha is None:
        return None
    return change.to_url.rsplit("/", 1)[-1], change.to_sha


def _hold(current: Pin | None, target: _Target, blocked: Sequence[Withheld], draft: _Draft) -> None:
    """The target needs an installer that failed verification: nothing moves."""
    kept = "none" if current is None else current.name.label
    for item in blocked:
        if item.mismatch:
            arch = next(
                (a for a, i in target.installers.items() if i.filename == item.filename), "?"
            )
            draft.warn(
                Kind.UNVERIFIED,
                f"{arch}: {item.filename}: {item.reason}; not proposed, the pins stay at {kept}",
            )
        else:
            reason = f"{item.filename} could not be verified: {item.reason}"
            draft.waiting.append(Waiting(target.version, target.python, target.age, reason))


def _arch_rank(arch: str) -> int:
    return list(BY_ARCH).index(arch) if arch in BY_ARCH else len(BY_ARCH)


def _check_pins(image: Image, pins: Sequence[Pin]) -> dict[str, Pin]:
    by_arch = {p.arch: p for p in sorted(pins, key=lambda p: _arch_rank(p.arch))}
    for pin in pins:
        if pin.product is not image.product:
            raise PlanError(
                f"{pin.path}:{pin.line}: pins {pin.filename}, but image {image.name!r} "
                f"is {image.product.value}",
                "fix the image's product in the catalog or the Dockerfile",
            )
    missing = [p.name for p in image.platforms if p.arch not in by_arch]
    if missing:
        raise PlanError(
            f"{image.pin_file}: image {image.name!r} builds {', '.join(missing)} "
            "but the Dockerfile pins no installer for it",
            "add the arch's pin or remove the platform from the catalog",
        )
    return by_arch


def _check_integrity(by_arch: Mapping[str, Pin], index: _Index, draft: _Draft) -> None:
    for arch, pin in by_arch.items():
        upstream = index.by_filename.get(pin.filename)
        if upstream is None:
            draft.note(f"{arch}: {pin.filename} is not in the upstream listing")
            continue
        if upstream.sha256 == pin.sha256:
            continue
        owner = index.by_sha.get(pin.sha256)
        if owner is not None:
            draft.warn(
                Kind.STALE_HASH,
                f"{arch}: the sha256 pinned for {pin.filename} is that of {owner.filename}; "
                f"upstream's is {upstream.sha256} (a version bump left it)",
            )
        else:
            draft.warn(
                Kind.CHECKSUM_CHANGED,
                f"{arch}: {pin.filename} was {pin.sha256}, upstream now lists {upstream.sha256} "
                "for the same name; verify it with Anaconda before merging",
            )


@dataclass(frozen=True)
class _Default:
    """Upstream's default flavour as the primary arches' `-latest-` aliases publish it."""

    flavour: str | None  # None: no primary alias, or unsettled
    unsettled: str | None = None  # why upstream is mid-upload, if it is
    age: timedelta = timedelta(0)  # since the newest primary alias changed


def _upstream_default(product: Product, listing: Listing, now: datetime) -> _Default:
    aliases = [
        alias
        for arch in PRIMARY_ARCHES
        if (alias := listing.latest_alias(product, "Linux", arch)) is not None
    ]
    if not aliases:
        return _Default(None)
    age = now - datetime.fromtimestamp(max(a.mtime for a in aliases), UTC)
    unlisted = [a for a in aliases if a.target is None]
    if unlisted:
        return _Default(None, f"{unlisted[0].filename} holds bytes no listed installer has", age)
    named = {a.arch: a.target.python for a in aliases if a.target is not None}
    if len(set(named.values())) > 1:
        says = ", ".join(f"{arch} names {python}" for arch, python in named.items())
        return _Default(None, f"the -latest- aliases disagree ({says})", age)
    return _Default(next(iter(named.values())))


def _target_flavour(
    image: Image, current: str | None, default: _Default, draft: _Draft
) -> str | None:
    if not image.follows_default:
        newest = default.flavour
        if newest and newest != image.python and _flavour_key(newest) > _flavour_key(image.python):
            draft.note(
                f"upstream's default flavour is now {newest}; staying on {image.python} "
                "as the catalog pins it",
                Kind.NEW_FLAVOUR,
            )
        return image.python
    if current is None and image.product is not Product.MINICONDA3:
        return None  # Anaconda and old Miniconda names carry no flavour
    if default.unsettled:
        _wait_for_upload(default, draft)
        return current
    if default.flavour and current and _flavour_key(default.flavour) < _flavour_key(current):
        draft.note(
            f"upstream's -latest- alias names {default.flavour}, older than the pinned "
            f"{current}: staying on {current} (set the image's python to move down)"
        )
        return current
    return default.flavour or current


def _wait_for_upload(default: _Default, draft: _Draft) -> None:
    draft.mid_upload = True
    reason = f"upstream is mid-upload: {default.unsettled}"
    draft.waiting.append(Waiting(None, None, default.age, reason))
    if default.age >= ARCH_GRACE:
        text = (
            f"UPLOAD STUCK: upstream has been mid-upload for {_age(default.age)}: "
            f"{default.unsettled}; ask Anaconda, or pin the image's python"
        )
        draft.notes.append(Note(Severity.WARNING, text))


def _flavour_key(flavour: str) -> tuple[int, int]:
    """`py39` < `py310`: major digit, then minor as a number."""
    return int(flavour[2:3]), int(flavour[3:] or 0)


def _choose(
    image: Image,
    current: Pin | None,
    flavour: str | None,
    by_arch: Collection[str],
    index: _Index,
    now: datetime,
    draft: _Draft,
) -> _Target | None:
    """The newest release the policy allows that is newer than the pins, or None.

    With no pins (`current` None, a new line) only a release with every arch will do.
    """
    policy = image.bot
    skipped: list[str] = []
    for version in index.newest_first(image.product, flavour):
        if current is not None and (
            version < current.version or (version == current.version and flavour == current.python)
        ):
            break
        label = version.label(flavour)
        if _ignored(policy.ignore, flavour, version):
            skipped.append(f"{label} (bot.ignore)")
            continue
        if policy.allow is not None and version not in policy.allow:
            skipped.append(f"{label} (outside bot.allow {policy.allow.text})")
            continue
        installers = index.release(image.product, flavour, version)
        present = {a: installers[a] for a in by_arch if a in installers}
        if not present:
            continue
        age = now - datetime.fromtimestamp(max(i.mtime for i in present.values()), UTC)
        if age < policy.min_release_age:
            reason = f"younger than {_age(policy.min_release_age)}"
            if age < timedelta(0):
                reason = "dated after the planning time"  # a listing from the future, or --now
            draft.waiting.append(Waiting(version, flavour, age, reason))
            continue
        late = [a for a in by_arch if a not in installers]
        if late and age < ARCH_GRACE:
            draft.waiting.append(
                Waiting(version, flavour, age, f"{', '.join(late)} not yet published")
            )
            continue
        if late and current is None:
            continue  # nothing to drop: first pins cover every platform the catalog lists
        _note_skipped(skipped, draft)
        return _Target(version, flavour, installers, age)
    _note_skipped(skipped, draft)
    return None


def _check_flavour_lives(
    image: Image, by_arch: Collection[str], index: _Index, now: datetime, draft: _Draft
) -> None:
    """A line's flavour has ended when upstream's newest release (that the policy allows)
    has no installer of it for the line's arches: flagged as loudly as a dropped arch."""
    flavour = image.python
    last = index.last_for_arches(image.product, flavour, by_arch)
    allowed = {
        version: mtime
        for version, mtime in index.releases_of(image.product, by_arch).items()
        if not _ignored(image.bot.ignore, None, version)
        and (image.bot.allow is None or version in image.bot.allow)
    }
    newest = max(allowed, default=None)
    if newest is None or last is None or newest <= last:
        return
    age = now - datetime.fromtimestamp(allowed[newest], UTC)
    if age < ARCH_GRACE:
        reason = f"{flavour} not yet published (upstream uploads one file at a time)"
        draft.waiting.append(Waiting(newest, flavour, age, reason))
        return
    draft.warn(
        Kind.FLAVOUR_ENDED,
        f"{flavour}: upstream's newest release {newest} has no {flavour} installer; last was "
        f"{last.label(flavour)}. The line stays there; to retire it, set frozen: true (a "
        "product release then leaves it out)",
    )


def _first_pins(
    image: Image, index: _Index, now: datetime, withheld: Mapping[tuple[str, str], Withheld]
) -> ImagePlan:
    """A new line: every platform it builds gets the newest release of its flavour."""
    draft = _Draft()
    target = _choose(image, None, image.python, image.arches, index, now, draft)
    if target is None:
        if not draft.waiting:
            reason = f"upstream has no {image.python} release for {', '.join(image.arches)} yet"
            draft.waiting.append(Waiting(None, image.python, timedelta(0), reason))
        return _finish(image, None, None, (), draft)
    changes = tuple(_change(arch, None, target.installers[arch]) for arch in image.arches)
    blocked = [withheld[k] for c in changes if (k := _proposes(c)) and k in withheld]
    if blocked:
        _hold(None, target, blocked, draft)
        return _finish(image, None, None, (), draft)
    draft.note(
        f"the line has no pins yet: first pins {target.version.label(target.python)}",
        Kind.FIRST_PINS,
    )
    return _finish(image, None, target, changes, draft)


def _change(arch: str, pin: Pin | None, installer: Installer | None) -> PinChange:
    """From `pin` (None: a first pin) to `installer` (None: the pin is removed)."""
    if installer is None:
        assert pin is not None
        return PinChange(arch, pin.url, None, pin.sha256, None, from_name=pin.name)
    url = f"{PIN_ROOT}/{installer.product.directory}/{installer.filename}"
    return PinChange(
        arch,
        pin.url if pin else "",
        url,
        pin.sha256 if pin else "",
        installer.sha256,
        installer.size,
        installer.mtime,
        pin.name if pin else None,
        installer.name,
    )


def _ignored(ignore: Sequence[str], flavour: str | None, version: Version) -> bool:
    names = {version.text, version.upstream, version.label(flavour)}
    return any(entry in names for entry in ignore)


def _note_skipped(skipped: list[str], draft: _Draft) -> None:
    if not skipped:
        return
    shown = ", ".join(skipped[:_MAX_SKIP_NOTES])
    more = f" and {len(skipped) - _MAX_SKIP_NOTES} more" if len(skipped) > _MAX_SKIP_NOTES else ""
    draft.note(f"skipped by policy: {shown}{more}")


def _same_release(current: Pin, index: _Index, now: datetime) -> _Target | None:
    """The release already pinned, so a mixed or mis-hashed file can still be made whole."""
    installers = index.release(current.product, current.python, current.version)
    if not installers:
        return None
    newest = max(i.mtime for i in installers.values())
    return _Target(
        current.version, current.python, installers, now - datetime.fromtimestamp(newest, UTC)
    )


def _changes(
    image: Image, by_arch: Mapping[str, Pin], target: _Target, index: _Index, draft: _Draft
) -> tuple[PinChange, ...]:
    changes = []
    for arch, pin in by_arch.items():
        installer = target.installers.get(arch)
        if installer is None and target.age < ARCH_GRACE:
            reason = f"{arch} not yet published"
            draft.waiting.append(Waiting(target.version, target.python, target.age, reason))
            continue
        if installer is None:
            changes.append(_change(arch, pin, None))
            advice = _keep_advice(image, pin, target, index)
            draft.warn(Kind.DROP_ARCH, f"{arch}: no installer for {target.version}; {advice}")
            if pin.format is not PinFormat.ARG_PAIR:
                draft.note(
                    f"{arch}: the {pin.format} form cannot be removed automatically; "
                    "remove its lines by hand",
                    Kind.DROP_ARCH,
                )
            continue
        change = _change(arch, pin, installer)
        if (change.to_url, change.to_sha) != (pin.url, pin.sha256):
            changes.append(change)
    return tuple(changes)


def _keep_advice(image: Image, pin: Pin, target: _Target, index: _Index) -> str:
    """How to keep the arch, from its last release: capping below the target alone would
    pick an older release that lacks the arch too."""
    last = index.last_for_arch(pin.product, target.python, pin.arch)
    python = None
    if last is None:  # the arch never had the target's flavour: stay on the pinned one
        python = pin.python
        last = index.last_for_arch(pin.product, pin.python, pin.arch) or pin.version
    allow = f"<={last}"
    if image.bot.allow is not None:
        allow = f"{image.bot.allow.text},{allow}"
    keep = (
        f"set python to {python} and bot.allow to {allow}"
        if python
        else f"set bot.allow to {allow}"
    )
    return f"last was {last.label(python)}. The bump drops {pin.arch}; to keep it, {keep}"


def _headline(flags: set[Kind], fallback: Kind) -> tuple[Kind, tuple[Kind, ...]]:
    ordered = tuple(sorted(flags or {fallback}, key=lambda k: k.rank))
    return ordered[0], ordered


def _finish(
    image: Image,
    current: Pin | None,
    target: _Target | None,
    changes: tuple[PinChange, ...],
    draft: _Draft,
) -> ImagePlan:
    """`current` None: a new line, with no pins yet."""
    pinned = None if current is None else (current.version, current.python)
    moves = target is not None and (target.version, target.python) != pinned
    if moves:
        assert target is not None
        draft.flags.add(Kind.BUMP)
        if current is not None and target.python != current.python:
            draft.warn(
                Kind.FLAVOUR_CHANGE,
                f"Python {current.python or '(none)'} -> {target.python}: packages built for the "
                "old Python may break",
            )
    if draft.waiting and not changes:
        draft.flags.add(Kind.WAITING)
    age = target.age if target and changes else None
    return _image_plan(image, draft, current, target if moves else None, age, changes)


def _frozen(image: Image, current: Pin, target: _Target | None, draft: _Draft) -> ImagePlan:
    newest = f"; {target.version.label(target.python)} is available" if target else ""
    draft.note(f"frozen at {current.name.label}{newest}: not moved", Kind.FROZEN)
    if draft.flags & {Kind.CHECKSUM_CHANGED, Kind.STALE_HASH}:
        draft.note("frozen: its hashes are left as they are; fix them by hand", Kind.FROZEN)
    return _image_plan(image, draft, current)


def _image_plan(
    image: Image,
    draft: _Draft,
    current: Pin | None,
    target: _Target | None = None,
    age: timedelta | None = None,
    changes: tuple[PinChange, ...] = (),
) -> ImagePlan:
    """The draft, frozen. `target`: the release proposed, only when it moves."""
    kind, flags = _headline(draft.flags, Kind.UP_TO_DATE)
    if Kind.FROZEN in flags and not kind.alarming:
        kind = Kind.FROZEN  # only an alarm outranks it
    dropped = {c.arch for c in changes if c.removes}
    return ImagePlan(
        image=image.name,
        dockerfile=image.pin_file,
        product=image.product,
        kind=kind,
        flags=flags,
        from_version=None if current is None else current.version,
        from_python=None if current is None else current.python,
        to_version=None if target is None else target.version,
        to_python=None if target is None else target.python,
        age=age,
        changes=changes,
        drop_platforms=tuple(p.name for p in image.platforms if p.arch in dropped),
        waiting=tuple(draft.waiting),
        notes=tuple(draft.notes),
    )


# -- presentation -------------------------------------------------------------------------


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "0m"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    return f"{hours}h{rest // 60}m" if hours else f"{rest // 60}m"


format_age = _age


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """A stable, JSON-ready form of the plan (also embedded in PR bodies)."""
    return {
        "schema": SCHEMA,
        "now": plan.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "images": [_image_json(i) for i in plan.images],
    }


def _image_json(image: ImagePlan) -> dict[str, Any]:
    return {
        "image": image.image,
        "dockerfile": image.dockerfile,
        "product": image.product.value,
        "kind": image.kind.value,
        "flags": [k.value for k in image.flags],
        "from": {"version": _text(image.from_version), "python": image.from_python},
        "to": None
        if image.to_version is None
        else {"version": image.to_version.text, "python": image.to_python},
        "age_seconds": None if image.age is None else int(image.age.total_seconds()),
        "changes": [
            {
                "arch": c.arch,
                "from_url": c.from_url,
                "to_url": c.to_url,
                "from_sha256": c.from_sha,
                "to_sha256": c.to_sha,
                "size": c.size,
                "mtime": c.mtime,
            }
            for c in image.changes
        ],
        "drop_platforms": list(image.drop_platforms),
        "waiting": [
            {
                "version": w.release,
                "python": w.python,
                "age_seconds": int(w.age.total_seconds()),
                "reason": w.reason,
            }
            for w in image.waiting
        ],
        "notes": [n.text for n in image.notes],
    }


def _text(version: Version | None) -> str:
    return "" if version is None else version.text  # "": a new line, no pins yet
