"""The vendored front-end files under static/vendor/ are what MANIFEST.md says: every file is
listed, each local copy has the recorded sha256, and the check reports a tampered copy, a bad
hash and a tarball that does not match, by name. No test here uses the network: the online
path runs against tarballs built in memory."""

import base64
import dataclasses
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from core import vendor
from core.vendor import (
    CHANGE_NONE,
    CHANGE_SOURCE_MAP,
    VendorError,
    VendorFile,
    vendor_change_apply,
    vendor_file_check,
    vendor_manifest_read,
    vendor_tarball_fetch,
)

ROOT = Path(settings.BASE_DIR)
VENDOR = ROOT / "static" / "vendor"
MANIFEST = VENDOR / "MANIFEST.md"
HTMX = "static/vendor/htmx.org-2.0.11/htmx.min.js"
IDB_KEYVAL = "static/vendor/idb-keyval-6.3.0/umd.js"
HEADER = (
    "| name | version | path | tarball | tarball path | sha256 | licence | changes |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
)


def _row(file: VendorFile) -> str:
    return "| " + " | ".join(dataclasses.astuple(file)) + " |\n"


def _tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _registry(monkeypatch, responses: dict[str, bytes]) -> list[str]:
    """``core.vendor``'s downloads answered from ``responses``; returns the URLs asked for."""
    asked = []

    def https_get(url, *, timeout):
        asked.append(url)
        return responses[url]

    monkeypatch.setattr(vendor, "_https_get", https_get)
    return asked


def _htmx_row(**changes) -> VendorFile:
    (row,) = [file for file in vendor_manifest_read(MANIFEST) if file.path == HTMX]
    return dataclasses.replace(row, **changes)


def test_the_manifest_lists_exactly_the_files_under_static_vendor():
    # given the files vendored under static/vendor/, other than the manifest itself
    present = {
        path.relative_to(ROOT).as_posix()
        for path in VENDOR.rglob("*")
        if path.is_file() and path != MANIFEST
    }

    # when the manifest is read
    files = vendor_manifest_read(MANIFEST)

    # then it has one row per file, no more and no less: the scripts and their licence files
    assert sorted(file.path for file in files) == sorted(present)
    assert sorted(file.path for file in files if file.path.endswith(".js")) == [
        "static/vendor/echarts-6.1.0/echarts.min.js",
        HTMX,
        IDB_KEYVAL,
    ]
    assert {(file.name, file.version) for file in files} == {
        ("htmx.org", "2.0.11"),
        ("echarts", "6.1.0"),
        ("idb-keyval", "6.3.0"),
    }


def test_every_vendored_file_has_its_manifest_sha256():
    # given the manifest's rows
    files = vendor_manifest_read(MANIFEST)

    # when each local file is checked, without a tarball
    problems = [problem for file in files for problem in vendor_file_check(file, root=ROOT)]

    # then none differs
    assert problems == []


def test_the_command_passes_offline():
    # given the repository's vendored files and manifest
    out = io.StringIO()

    # when the command runs offline
    call_command("vendor_check", "--offline", stdout=out)

    # then every file matches
    assert out.getvalue() == "8 vendored file(s) match the manifest.\n"


def test_no_vendored_script_has_a_source_map_comment_left():
    # given Django's manifest storage pattern for a script's source map (collectstatic resolves
    # it, and fails on a .map that is not vendored)
    source_map = re.compile(rb"(?m)^//# (?-i:sourceMappingURL)=(.*)$")

    # when the vendored scripts are searched for it
    found = {
        file.path: source_map.findall((ROOT / file.path).read_bytes())
        for file in vendor_manifest_read(MANIFEST)
        if file.path.endswith(".js")
    }

    # then none has one
    assert found == {
        HTMX: [],
        "static/vendor/echarts-6.1.0/echarts.min.js": [],
        IDB_KEYVAL: [],
    }


def test_a_tampered_copy_is_reported_with_its_name(tmp_path):
    # given a copy of htmx.min.js with one byte more, where the check looks
    row = _htmx_row()
    tampered = tmp_path / row.path
    tampered.parent.mkdir(parents=True)
    tampered.write_bytes((ROOT / row.path).read_bytes() + b"\n")
    actual = hashlib.sha256(tampered.read_bytes()).hexdigest()

    # when the check is pointed at it
    problems = vendor_file_check(row, root=tmp_path)

    # then that file is named, with both hashes
    assert problems == [f"{HTMX}: sha256 {actual}, the manifest says {row.sha256}"]


def test_a_missing_copy_is_reported_with_its_name(tmp_path):
    # given a root without the vendored file
    row = _htmx_row()

    # when the check looks for it there
    problems = vendor_file_check(row, root=tmp_path)

    # then it is named as missing
    assert problems == [f"{HTMX}: missing"]


def test_a_manifest_row_with_a_bad_hash_fails_the_command(tmp_path):
    # given a manifest whose htmx row records another sha256
    bad = "0" * 64
    manifest = tmp_path / "MANIFEST.md"
    manifest.write_text(HEADER + _row(_htmx_row(sha256=bad)), encoding="utf-8")
    actual = hashlib.sha256((ROOT / HTMX).read_bytes()).hexdigest()

    # when the command checks against it
    with pytest.raises(CommandError) as raised:
        call_command("vendor_check", "--offline", "--manifest", str(manifest))

    # then it fails naming the file
    assert str(raised.value) == (
        "vendored files do not match the manifest:\n"
        f"{HTMX}: sha256 {actual}, the manifest says {bad}"
    )


def test_a_malformed_sha256_in_the_manifest_is_refused(tmp_path):
    # given a row whose sha256 is not 64 lowercase hex digits
    manifest = tmp_path / "MANIFEST.md"
    manifest.write_text(HEADER + _row(_htmx_row(sha256="ABC")), encoding="utf-8")

    # when the manifest is read
    with pytest.raises(VendorError) as raised:
        vendor_manifest_read(manifest)

    # then the line and the file are named
    assert str(raised.value) == (f"{manifest}:3: {HTMX}: sha256 is not 64 lowercase hex digits")


def test_the_source_map_change_drops_only_a_last_source_map_line():
    # given a script ending with a source map comment, and one with it elsewhere
    script = b"var a = 1;\n//# sourceMappingURL=a.min.js.map\n"
    inner = b"//# sourceMappingURL=a.map\nvar a = 1;\n"

    # when the recorded changes are applied
    stripped = vendor_change_apply(script, CHANGE_SOURCE_MAP)
    untouched = vendor_change_apply(inner, CHANGE_SOURCE_MAP)
    unchanged = vendor_change_apply(script, CHANGE_NONE)

    # then only the last line goes, and "none" changes nothing
    assert stripped == b"var a = 1;\n"
    assert untouched == inner
    assert unchanged == script


def test_the_tarball_member_with_the_recorded_change_is_compared(tmp_path):
    # given a vendored script whose tarball copy ends with a source map comment
    vendored = b"var a = 1;\n"
    row = VendorFile(
        name="lib",
        version="1.0.0",
        path="static/vendor/lib-1.0.0/lib.min.js",
        tarball="https://registry.npmjs.org/lib/-/lib-1.0.0.tgz",
        member="package/dist/lib.min.js",
        sha256=hashlib.sha256(vendored).hexdigest(),
        licence="MIT",
        changes=CHANGE_SOURCE_MAP,
    )
    (tmp_path / row.path).parent.mkdir(parents=True)
    (tmp_path / row.path).write_bytes(vendored)
    tarball = _tarball({row.member: vendored + b"//# sourceMappingURL=lib.min.js.map"})

    # when the file is checked against the tarball, with and without the change recorded
    with_change = vendor_file_check(row, root=tmp_path, tarball=tarball)
    without_change = vendor_file_check(
        dataclasses.replace(row, changes=CHANGE_NONE), root=tmp_path, tarball=tarball
    )

    # then it matches only with the change applied
    fetched = hashlib.sha256(vendored + b"//# sourceMappingURL=lib.min.js.map").hexdigest()
    assert with_change == []
    assert without_change == [
        f"{row.path}: {row.member} in {row.tarball} has sha256 {fetched} (none), "
        f"the manifest says {row.sha256}"
    ]


def test_a_member_missing_from_the_tarball_is_reported():
    # given a tarball without htmx.min.js
    row = _htmx_row()
    tarball = _tarball({"package/README.md": b"htmx"})

    # when the file is checked against it
    problems = vendor_file_check(row, root=ROOT, tarball=tarball)

    # then the file and the member are named
    assert problems == [f"{HTMX}: {row.member} in {row.tarball}: not in the tarball"]


def test_a_tarball_is_taken_only_with_the_registry_integrity(monkeypatch):
    # given the registry's metadata for a version, naming a tarball's sha512
    row = _htmx_row()
    tarball = _tarball({row.member: (ROOT / HTMX).read_bytes()})
    metadata = {"dist": {"tarball": row.tarball, "integrity": _integrity(tarball)}}
    responses = {
        "https://registry.npmjs.org/htmx.org/2.0.11": json.dumps(metadata).encode(),
        row.tarball: tarball,
    }
    asked = _registry(monkeypatch, responses)

    # when the tarball is fetched as it is, then with one byte more
    fetched = vendor_tarball_fetch(row)
    responses[row.tarball] = tarball + b"\0"
    with pytest.raises(VendorError) as raised:
        vendor_tarball_fetch(row)

    # then the first is returned, and the second refused
    assert fetched == tarball
    assert str(raised.value) == f"{row.tarball}: sha512 does not match the registry's integrity"
    assert asked == ["https://registry.npmjs.org/htmx.org/2.0.11", row.tarball] * 2


def test_a_tarball_url_other_than_the_registry_one_is_refused(monkeypatch):
    # given a manifest row whose tarball URL is not the one the registry names
    row = _htmx_row(tarball="https://example.invalid/htmx.org-2.0.11.tgz")
    metadata = {"dist": {"tarball": _htmx_row().tarball, "integrity": "sha512-x"}}
    responses = {"https://registry.npmjs.org/htmx.org/2.0.11": json.dumps(metadata).encode()}
    asked = _registry(monkeypatch, responses)

    # when its tarball is fetched
    with pytest.raises(VendorError) as raised:
        vendor_tarball_fetch(row)

    # then it is refused before any download
    assert str(raised.value) == (
        f"htmx.org 2.0.11: the registry's tarball is {_htmx_row().tarball!r}, "
        f"the manifest's {row.tarball!r}"
    )
    assert asked == ["https://registry.npmjs.org/htmx.org/2.0.11"]


def test_the_command_passes_online_against_matching_tarballs(monkeypatch):
    # given a registry serving, for each package version, a tarball made of the vendored files
    members: dict[tuple[str, str, str], dict[str, bytes]] = {}
    for file in vendor_manifest_read(MANIFEST):
        package = (file.name, file.version, file.tarball)
        members.setdefault(package, {})[file.member] = (ROOT / file.path).read_bytes()
    responses = {}
    for (name, version, url), package_members in members.items():
        tarball = _tarball(package_members)
        metadata = {"dist": {"tarball": url, "integrity": _integrity(tarball)}}
        responses[f"https://registry.npmjs.org/{name}/{version}"] = json.dumps(metadata).encode()
        responses[url] = tarball
    asked = _registry(monkeypatch, responses)
    out = io.StringIO()

    # when the command runs online
    call_command("vendor_check", stdout=out)

    # then everything matches, and each tarball was downloaded once
    assert out.getvalue() == "8 vendored file(s) match the manifest and their npm tarballs.\n"
    assert asked == [
        "https://registry.npmjs.org/htmx.org/2.0.11",
        "https://registry.npmjs.org/htmx.org/-/htmx.org-2.0.11.tgz",
        "https://registry.npmjs.org/echarts/6.1.0",
        "https://registry.npmjs.org/echarts/-/echarts-6.1.0.tgz",
        "https://registry.npmjs.org/idb-keyval/6.3.0",
        "https://registry.npmjs.org/idb-keyval/-/idb-keyval-6.3.0.tgz",
    ]
