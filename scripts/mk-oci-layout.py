#!/usr/bin/env python3
"""Writes a small OCI image layout for tests and demos, without docker.

usage: mk-oci-layout.py DIR [SEED] [COUNT]
Tags in DIR/index.json:
  v1     one linux/amd64 image manifest
  multi  an image index of linux/amd64 and linux/arm64 manifests
  img0 … img<COUNT-1>   COUNT more distinct single-platform images (benchmarks)
SEED changes the file content, so that many distinct images can be made.
Everything is deterministic (mtime 0), so digests are stable for a given SEED.
"""
import gzip, hashlib, io, json, os, sys, tarfile

root = sys.argv[1]
seed = sys.argv[2] if len(sys.argv) > 2 else ""
count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
blob_dir = os.path.join(root, "blobs", "sha256")
os.makedirs(blob_dir, exist_ok=True)


def store(data: bytes) -> str:
    hexdigest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blob_dir, hexdigest), "wb") as f:
        f.write(data)
    return "sha256:" + hexdigest


def compact(doc) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def image_for(arch: str, variant: str = "") -> dict:
    content = f"signet test image {seed}{variant} for {arch}\n".encode()
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = tar_buf.getvalue()
    layer = gzip.compress(tar_bytes, mtime=0)
    config = compact({
        "architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]},
    })
    manifest = compact({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": store(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": store(layer), "size": len(layer)}],
    })
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": store(manifest),
            "size": len(manifest), "platform": {"architecture": arch, "os": "linux"}}


amd64, arm64 = image_for("amd64"), image_for("arm64")
index = compact({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [amd64, arm64]})
single = {k: v for k, v in amd64.items() if k != "platform"}
single["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
multi = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": store(index), "size": len(index),
         "annotations": {"org.opencontainers.image.ref.name": "multi"}}
with open(os.path.join(root, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
extra = []
for n in range(count):
    img = {k: v for k, v in image_for("amd64", f"-{n}").items() if k != "platform"}
    img["annotations"] = {"org.opencontainers.image.ref.name": f"img{n}"}
    extra.append(img)
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [single, multi] + extra}, f)
print(single["digest"], multi["digest"])
