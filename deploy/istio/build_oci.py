"""Builds the module's OCI image for Istio (WasmPlugin `url: oci://...`)
without Docker, byte for byte reproducibly: `make oci`, or

  python3 deploy/istio/build_oci.py [WASM] [OUT_DIR] [--tag TAG]

WASM defaults to target/wasm32-wasip1/release/jwt_guard.wasm, OUT_DIR to
target/oci, TAG to Cargo.toml's version. It writes

  OUT_DIR/jwt-guard/      an OCI image layout (oci-layout, index.json,
                          blobs/sha256/...), the manifest tagged TAG
  OUT_DIR/jwt-guard.tar   the same layout as one tar (an "oci-archive")

The image is the "compat" variant of the Wasm image spec Istio implements:
one layer, `application/vnd.oci.image.layer.v1.tar+gzip`, a tar holding
only `plugin.wasm`; config `application/vnd.oci.image.config.v1+json`.
Istio tries that variant first. Its other, wasm-specific variant
(`application/vnd.module.wasm.content.layer.v1+wasm` layer,
`application/vnd.module.wasm.config.v1+json` config) Istio accepts only as
an image of exactly two layers, and registries and tools that know only
the standard media types may refuse or mishandle it; the compat image is an
ordinary OCI image every registry and client takes.

Every timestamp is fixed (0), owners and modes too, and gzip writes no file
name or time: two builds of the same module are identical.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import sys
import tarfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAME = "jwt-guard"
LAYER_FILE = "plugin.wasm"

LAYOUT_VERSION = "1.0.0"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def to_json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(files: list[tuple[str, bytes | None]]) -> bytes:
    """A ustar archive of (name, content) in the given order; None content
    makes a directory. Owner 0:0, mode 0644/0755, mtime 0."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in files:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if content is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def descriptor(media_type: str, blob: bytes, **extra) -> dict:
    return {"mediaType": media_type, "digest": sha256(blob), "size": len(blob), **extra}


def image_blobs(wasm: bytes, tag: str) -> tuple[dict[str, bytes], dict]:
    """The blobs by digest, and the index.json document."""
    layer_tar = tar_bytes([(LAYER_FILE, wasm)])
    layer = gzip_bytes(layer_tar)
    config = to_json({
        # Docker and containerd name wasm images' platform this way.
        "architecture": "wasm",
        "os": "wasip1",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer_tar)]},
    })
    manifest = to_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": descriptor(CONFIG_TYPE, config),
        "layers": [descriptor(LAYER_TYPE, layer)],
        "annotations": {
            "org.opencontainers.image.title": NAME,
            "org.opencontainers.image.version": tag,
        },
    })
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [descriptor(MANIFEST_TYPE, manifest, annotations={REF_NAME: tag})],
    }
    blobs = {sha256(b): b for b in (layer, config, manifest)}
    return blobs, index


def build(wasm_path: Path, out_dir: Path, tag: str) -> tuple[Path, Path]:
    wasm = wasm_path.read_bytes()
    if not wasm.startswith(b"\0asm"):
        raise SystemExit(f"{wasm_path} is not a wasm module")
    blobs, index = image_blobs(wasm, tag)
    files: list[tuple[str, bytes | None]] = [
        ("oci-layout", to_json({"imageLayoutVersion": LAYOUT_VERSION})),
        ("index.json", to_json(index)),
        ("blobs", None),
        ("blobs/sha256", None),
    ]
    files += [(f"blobs/sha256/{d.removeprefix('sha256:')}", b) for d, b in sorted(blobs.items())]

    layout = out_dir / NAME
    if layout.exists():
        shutil.rmtree(layout)  # no stale blobs of an earlier build
    for name, content in files:
        path = layout / name
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    archive = out_dir / f"{NAME}.tar"
    archive.write_bytes(tar_bytes(files))
    return layout, archive


def cargo_version() -> str:
    with open(REPO / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("wasm", nargs="?", type=Path,
                    default=REPO / "target" / "wasm32-wasip1" / "release" / "jwt_guard.wasm")
    ap.add_argument("out_dir", nargs="?", type=Path, default=REPO / "target" / "oci")
    ap.add_argument("--tag", default=None, help="the layout's tag (default: Cargo.toml version)")
    args = ap.parse_args(argv)
    tag = args.tag or cargo_version()
    layout, archive = build(args.wasm, args.out_dir, tag)
    print(f"{layout} (tag {tag})\n{archive}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
