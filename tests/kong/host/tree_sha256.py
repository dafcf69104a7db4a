"""The sha256 of a source tarball's file tree, independent of how it was
packed: every regular file and symlink, below the top directory, sorted by
path, as `path NUL mode NUL size NUL content` (mode: 'x' if executable,
else '-'; a symlink's content is its target). Two exports of one commit
(a local `git archive`, GitHub's archive URL) give the same value though
their gzip bytes and top directory names differ.

    python3 tree_sha256.py nginx-1.27.4.tar.gz
"""

import hashlib
import sys
import tarfile


def tree_sha256(path: str) -> str:
    entries = []
    with tarfile.open(path, "r:gz") as tar:
        for m in tar.getmembers():
            if not (m.isfile() or m.issym()) or "/" not in m.name:
                continue
            rel = m.name.split("/", 1)[1]
            if m.issym():
                content = m.linkname.encode()
            else:
                f = tar.extractfile(m)
                content = f.read() if f else b""
            mode = "x" if m.mode & 0o111 else "-"
            entries.append((rel, mode, content))
    h = hashlib.sha256()
    for rel, mode, content in sorted(entries):
        h.update(f"{rel}\0{mode}\0{len(content)}\0".encode())
        h.update(content)
    return h.hexdigest()


if __name__ == "__main__":
    print(tree_sha256(sys.argv[1]))
