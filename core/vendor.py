"""The front-end libraries vendored under ``static/vendor/``, as ``static/vendor/MANIFEST.md``
lists them: one table row per file, with the npm tarball it came from, the path inside it, and
the sha256 of the file as committed. ``manage.py vendor_check`` reads it.

Why a manifest and a re-fetch: a vendored file is a copy nobody reviews line by line. Its
sha256 in the manifest shows that the copy was not edited since (checked offline, in the test
suite); downloading the tarball again, checked against the registry's own integrity hash for
that version, shows that the copy is what the release ships, with only the recorded change.
Standard library only (urllib, tarfile, hashlib): the check needs nothing installed."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
TIMEOUT = 60  # seconds, for each request
TARBALL_MAX_BYTES = 100 * 1024 * 1024

CHANGE_NONE = "none"
# The manifest static files storage rewrites ``//# sourceMappingURL=`` lines in .js files and
# fails when the map is missing; no .map is vendored, so such a last line is dropped.
CHANGE_SOURCE_MAP = "sourceMappingURL comment removed"
CHANGES = (CHANGE_NONE, CHANGE_SOURCE_MAP)

# The manifest's columns, in this order (the table's header row).
COLUMNS = ("name", "version", "path", "tarball", "tarball path", "sha256", "licence", "changes")

SOURCE_MAP_LINE = re.compile(rb"(?:^|(?<=\n))//# sourceMappingURL=[^\r\n]*(?:\r?\n)?\Z")
SHA256 = re.compile(r"[0-9a-f]{64}")


class VendorError(Exception):
    """The manifest cannot be read, or a tarball cannot be fetched or trusted."""


@dataclass(frozen=True)
class VendorFile:
    """One row of the manifest: a file as vendored and where it came from."""

    name: str  # npm package name
    version: str
    path: str  # in the repository, relative to its root
    tarball: str  # the npm tarball's URL
    member: str  # the path inside the tarball
    sha256: str  # of the file as vendored
    licence: str  # SPDX id
    changes: str  # one of CHANGES


def vendor_manifest_read(path: Path) -> list[VendorFile]:
    """The rows of the manifest's table, in order. Raises ``VendorError`` on a header other than
    ``COLUMNS``, a row with another number of cells, a malformed sha256, an unknown change, or
    a path listed twice."""
    files: list[VendorFile] = []
    header_seen = False
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not header_seen:
            if tuple(cell.lower() for cell in cells) != COLUMNS:
                raise VendorError(f"{path}:{number}: the table's columns must be {COLUMNS}")
            header_seen = True
            continue
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the separator row
        if len(cells) != len(COLUMNS):
            raise VendorError(f"{path}:{number}: {len(cells)} cells, expected {len(COLUMNS)}")
        row = VendorFile(*cells)
        if not SHA256.fullmatch(row.sha256):
            raise VendorError(f"{path}:{number}: {row.path}: sha256 is not 64 lowercase hex digits")
        if row.changes not in CHANGES:
            raise VendorError(f"{path}:{number}: {row.path}: unknown change {row.changes!r}")
        if any(other.path == row.path for other in files):
            raise VendorError(f"{path}:{number}: {row.path} is listed twice")
        files.append(row)
    if not header_seen:
        raise VendorError(f"{path}: no table")
    return files


def vendor_change_apply(data: bytes, change: str) -> bytes:
    """The tarball's bytes as they are vendored: unchanged, or without their last line when it
    is a ``//# sourceMappingURL=`` comment (the line break that ends the line before stays)."""
    if change == CHANGE_NONE:
        return data
    if change == CHANGE_SOURCE_MAP:
        return SOURCE_MAP_LINE.sub(b"", data, count=1)
    raise VendorError(f"unknown change {change!r}")


def vendor_tarball_fetch(file: VendorFile, *, timeout: float = TIMEOUT) -> bytes:
    """The tarball of ``file``'s package version, downloaded from the manifest's URL, after
    checking that the registry names that URL for that version and that the bytes match the
    registry's ``dist.integrity`` (sha512). Raises ``VendorError`` otherwise."""
    name = urllib.parse.quote(file.name, safe="@")
    version = urllib.parse.quote(file.version, safe="")
    metadata = json.loads(_https_get(f"{REGISTRY}/{name}/{version}", timeout=timeout))
    dist = metadata.get("dist") or {}
    if dist.get("tarball") != file.tarball:
        raise VendorError(
            f"{file.name} {file.version}: the registry's tarball is {dist.get('tarball')!r}, "
            f"the manifest's {file.tarball!r}"
        )
    expected = [
        entry.removeprefix("sha512-")
        for entry in str(dist.get("integrity", "")).split()
        if entry.startswith("sha512-")
    ]
    if not expected:
        raise VendorError(f"{file.name} {file.version}: the registry gives no sha512 integrity")
    data = _https_get(file.tarball, timeout=timeout)
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual not in expected:
        raise VendorError(f"{file.tarball}: sha512 does not match the registry's integrity")
    return data


def vendor_file_check(file: VendorFile, *, root: Path, tarball: bytes | None = None) -> list[str]:
    """What is wrong with one vendored file, each problem naming its path (empty when none):
    the file under ``root`` is missing or its sha256 is not the manifest's; and, given the
    package's ``tarball`` bytes, the named member with the recorded change applied is missing
    or not the manifest's sha256 either."""
    problems = []
    local = Path(root) / file.path
    if not local.is_file():
        problems.append(f"{file.path}: missing")
    else:
        actual = hashlib.sha256(local.read_bytes()).hexdigest()
        if actual != file.sha256:
            problems.append(f"{file.path}: sha256 {actual}, the manifest says {file.sha256}")
    if tarball is not None:
        try:
            data = vendor_change_apply(_tar_member(tarball, file.member), file.changes)
        except (VendorError, tarfile.TarError, OSError, EOFError) as exc:
            problems.append(f"{file.path}: {file.member} in {file.tarball}: {exc}")
        else:
            fetched = hashlib.sha256(data).hexdigest()
            if fetched != file.sha256:
                problems.append(
                    f"{file.path}: {file.member} in {file.tarball} has sha256 {fetched} "
                    f"({file.changes}), the manifest says {file.sha256}"
                )
    return problems


def _tar_member(tarball: bytes, member: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:*") as archive:
        try:
            info = archive.getmember(member)
        except KeyError:
            raise VendorError("not in the tarball") from None
        extracted = archive.extractfile(info) if info.isfile() else None
        if extracted is None:
            raise VendorError("not a regular file in the tarball")
        return extracted.read()


def _https_get(url: str, *, timeout: float) -> bytes:
    if urllib.parse.urlsplit(url).scheme != "https":
        raise VendorError(f"{url}: only https URLs are fetched")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https only)
            data = response.read(TARBALL_MAX_BYTES + 1)
    except OSError as exc:  # URLError, HTTPError and timeouts are OSErrors
        raise VendorError(f"{url}: {exc}") from exc
    if len(data) > TARBALL_MAX_BYTES:
        raise VendorError(f"{url}: larger than {TARBALL_MAX_BYTES} bytes")
    return data
