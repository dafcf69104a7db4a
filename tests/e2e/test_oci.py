"""`make oci` (deploy/istio/build_oci.py): the OCI image layout and archive
Istio's WasmPlugin pulls the module from.

Built from the module twice, into two folders: every blob's digest and size
match its descriptor, the media types are those of the compat variant of
the Wasm image spec, the one layer is a gzipped tar holding exactly
`plugin.wasm`, equal to the built module, the layer is found the way
Istio's fetcher finds it, and the two builds are byte-identical.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile

import pytest

from envoy_runner import REPO, WASM
from wasm_stack import needs_wasm

pytestmark = needs_wasm

BUILD = REPO / "deploy" / "istio" / "build_oci.py"
TAG = "9.9.9-test"


def build(out):
    if not WASM.exists():
        pytest.fail(f"{WASM} not found: run `make build`")
    run = subprocess.run([sys.executable, str(BUILD), str(WASM), str(out), "--tag", TAG],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return out / "jwt-guard", out / "jwt-guard.tar"


def files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("oci-a")), build(tmp_path_factory.mktemp("oci-b"))


def blob(layout, desc: dict) -> bytes:
    """The blob a descriptor names, checked against its digest and size."""
    algo, _, hexd = desc["digest"].partition(":")
    assert algo == "sha256"
    data = (layout / "blobs" / "sha256" / hexd).read_bytes()
    assert hashlib.sha256(data).hexdigest() == hexd
    assert len(data) == desc["size"]
    return data


def test_layout_descriptors_match_their_blobs(built):
    (layout, _), _ = built
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((layout / "index.json").read_text())
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    (mdesc,) = index["manifests"]
    assert mdesc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert mdesc["annotations"]["org.opencontainers.image.ref.name"] == TAG
    manifest = json.loads(blob(layout, mdesc))
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == mdesc["mediaType"]
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    (ldesc,) = manifest["layers"]
    assert ldesc["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    config = json.loads(blob(layout, manifest["config"]))
    layer_tar = gzip.decompress(blob(layout, ldesc))
    assert config["rootfs"] == {"type": "layers",
                                "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]}
    assert {config["os"], config["architecture"]} == {"wasip1", "wasm"}
    # Nothing in blobs/ that no descriptor names.
    named = {d["digest"].split(":")[1] for d in (mdesc, manifest["config"], ldesc)}
    assert {p.name for p in (layout / "blobs" / "sha256").iterdir()} == named


def istio_extract(layout) -> bytes:
    """What Istio's compat-variant fetcher does: the last layer, of the OCI
    tar+gzip type, gunzipped, the tar member whose base name is plugin.wasm."""
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(blob(layout, index["manifests"][0]))
    layer = manifest["layers"][-1]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    with tarfile.open(fileobj=io.BytesIO(blob(layout, layer)), mode="r:gz") as tar:
        for member in tar:
            if member.name.rsplit("/", 1)[-1] == "plugin.wasm":
                return tar.extractfile(member).read()
    raise AssertionError("plugin.wasm not found")


def test_the_layer_holds_exactly_the_module(built):
    (layout, _), _ = built
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(blob(layout, index["manifests"][0]))
    with tarfile.open(fileobj=io.BytesIO(blob(layout, manifest["layers"][0])),
                      mode="r:gz") as tar:
        members = tar.getmembers()
        assert [(m.name, m.isfile()) for m in members] == [("plugin.wasm", True)]
        assert tar.extractfile(members[0]).read() == WASM.read_bytes()
    assert istio_extract(layout) == WASM.read_bytes()


def test_two_builds_are_byte_identical(built):
    (layout_a, tar_a), (layout_b, tar_b) = built
    a, b = files(layout_a), files(layout_b)
    assert len(a) == 5 and a == b
    assert tar_a.read_bytes() == tar_b.read_bytes()


def test_the_archive_is_the_layout(built):
    (layout, archive), _ = built
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        content = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}
    assert names[:2] == ["oci-layout", "index.json"]
    assert content == files(layout)
