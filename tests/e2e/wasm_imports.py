"""The import section of a .wasm module: which host functions it needs.

A minimal reader of the binary format (WebAssembly core spec, section 5.5.5):
enough to list (module, name, kind) for every import.
"""

from __future__ import annotations

from pathlib import Path

IMPORT_SECTION = 2
KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}


class Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return result

    def name(self) -> str:
        n = self.uleb()
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def skip_limits(self) -> None:
        flags = self.byte()
        self.uleb()
        if flags & 1:
            self.uleb()


def imports(path: Path) -> list[tuple[str, str, str]]:
    data = path.read_bytes()
    if data[:8] != b"\0asm\x01\0\0\0":
        raise ValueError(f"{path} is not a wasm module (version 1)")
    r = Reader(data, 8)
    out: list[tuple[str, str, str]] = []
    while r.pos < len(data):
        section, size = r.byte(), r.uleb()
        end = r.pos + size
        if section == IMPORT_SECTION:
            for _ in range(r.uleb()):
                module, name, kind = r.name(), r.name(), r.byte()
                if kind == 0:
                    r.uleb()                      # type index
                elif kind == 1:
                    r.byte()                      # element type
                    r.skip_limits()
                elif kind == 2:
                    r.skip_limits()
                elif kind == 3:
                    r.byte()                      # value type
                    r.byte()                      # mutability
                else:
                    raise ValueError(f"unknown import kind {kind}")
                out.append((module, name, KINDS.get(kind, "?")))
        r.pos = end
    return out
