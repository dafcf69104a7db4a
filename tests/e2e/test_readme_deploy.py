"""The README's "Deploy" section cannot drift from deploy/: every code block
in it but the shell commands is preceded by a marker naming its source,

    <!-- deploy/kong/kong.yml -->              the whole file
    <!-- deploy/envoy/envoy.yaml#wasm-filter -->  the lines between
        `# excerpt: wasm-filter` and `# end-excerpt: wasm-filter`, dedented

and must equal that text exactly.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from envoy_runner import REPO

SECTION = "## Deploy: Envoy, Istio, Kong"
BLOCK = re.compile(r"(?:<!-- (?P<ref>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def section() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return text[start:end]


def source(ref: str) -> str:
    path, _, name = ref.partition("#")
    text = (REPO / path).read_text()
    if not name:
        return text
    lines = text.splitlines(keepends=True)
    begin = [i for i, ln in enumerate(lines) if ln.strip() == f"# excerpt: {name}"]
    end = [i for i, ln in enumerate(lines) if ln.strip() == f"# end-excerpt: {name}"]
    assert len(begin) == 1 and len(end) == 1 and begin[0] < end[0], f"{ref}: markers"
    return textwrap.dedent("".join(lines[begin[0] + 1:end[0]]))


def blocks() -> list[tuple[str | None, str, str]]:
    return [(m["ref"], m["lang"], m["body"]) for m in BLOCK.finditer(section())]


def test_every_config_block_names_its_source():
    found = blocks()
    unmarked = [(lang, body[:60]) for ref, lang, body in found if ref is None and lang != "sh"]
    assert not unmarked, f"blocks without a <!-- deploy/... --> marker: {unmarked}"
    refs = {ref.partition("#")[0] for ref, _, _ in found if ref}
    assert refs == {"deploy/envoy/envoy.yaml", "deploy/istio/wasmplugin.yaml",
                    "deploy/istio/serviceentry.yaml", "deploy/kong/kong.conf",
                    "deploy/kong/kong.yml"}


@pytest.mark.parametrize("ref,body", [(r, b) for r, _, b in blocks() if r],
                         ids=[r for r, _, _ in blocks() if r])
def test_block_equals_its_source(ref, body):
    assert body == source(ref), f"README block for {ref} differs from the file"


def test_an_edited_file_would_be_caught():
    ref, _, body = next(b for b in blocks() if b[0] == "deploy/envoy/envoy.yaml#wasm-filter")
    assert body == source(ref)
    assert body.replace("fail_open: false", "fail_open: true") != source(ref)
    assert "fail_open: false" in body
