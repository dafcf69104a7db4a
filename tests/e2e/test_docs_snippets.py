"""Docs that cannot drift from deploy/: on the deploy pages and in the
README, every code block but the shell commands is preceded by a marker
naming its source,

    <!-- deploy/kong/kong.yml -->              the whole file
    <!-- deploy/envoy/envoy.yaml#wasm-filter -->  the lines between
        `# excerpt: wasm-filter` and `# end-excerpt: wasm-filter`, dedented

and must equal that text exactly. A marked block on any other docs page is
held to its source the same way; the pages in SHOWN_ELSEWHERE must show
their deploy files so (their other blocks may be unmarked), and every Envoy
bootstrap in deploy/envoy/ is shown on some page.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from envoy_runner import REPO

# Page -> the deploy files its blocks show. Every block on these pages but
# `sh` must carry a marker.
PAGES = {
    # The one complete Envoy example of the README is deploy/envoy/envoy.yaml's.
    "README.md": {"deploy/envoy/envoy.yaml"},
    "docs/deploy-envoy.md": {"deploy/envoy/envoy.yaml"},
    "docs/deploy-istio.md": {"deploy/istio/wasmplugin.yaml", "deploy/istio/serviceentry.yaml"},
    "docs/deploy-kong.md": {"deploy/kong/kong.conf", "deploy/kong/kong.yml"},
}
# Other pages -> the deploy files they show in marked blocks.
SHOWN_ELSEWHERE = {
    # The one complete introspection example is deploy/envoy/introspection.yaml.
    "docs/introspection.md": {"deploy/envoy/introspection.yaml"},
    # The DPoP example and the client the test suite runs against it.
    "docs/dpop.md": {"deploy/envoy/dpop.yaml", "deploy/envoy/dpop_client_example.py"},
}
BLOCK = re.compile(r"(?:<!-- (?P<ref>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def all_pages() -> list[str]:
    return ["README.md"] + sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))


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


def blocks(page: str) -> list[tuple[str | None, str, str]]:
    text = (REPO / page).read_text()
    return [(m["ref"], m["lang"], m["body"]) for m in BLOCK.finditer(text)]


def marked() -> list[tuple[str, str, str]]:
    """(page, ref, body) of every marked block in the README and docs/."""
    return [(page, ref, body) for page in all_pages() for ref, _, body in blocks(page) if ref]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_config_block_names_its_source(page):
    found = blocks(page)
    unmarked = [(lang, body[:60]) for ref, lang, body in found if ref is None and lang != "sh"]
    assert not unmarked, f"{page}: blocks without a <!-- deploy/... --> marker: {unmarked}"
    refs = {ref.partition("#")[0] for ref, _, _ in found if ref}
    assert refs == PAGES[page]


def test_the_deploy_pages_show_every_deploy_file():
    assert set().union(*(refs for page, refs in PAGES.items() if page != "README.md")) == {
        "deploy/envoy/envoy.yaml", "deploy/istio/wasmplugin.yaml",
        "deploy/istio/serviceentry.yaml", "deploy/kong/kong.conf", "deploy/kong/kong.yml"}


@pytest.mark.parametrize("page", sorted(SHOWN_ELSEWHERE))
def test_other_pages_show_their_deploy_files(page):
    refs = {ref.partition("#")[0] for ref, _, _ in blocks(page) if ref}
    assert refs == SHOWN_ELSEWHERE[page]


def test_every_envoy_bootstrap_is_shown():
    shown = set().union(*PAGES.values(), *SHOWN_ELSEWHERE.values())
    bootstraps = {str(p.relative_to(REPO)) for p in (REPO / "deploy" / "envoy").glob("*.yaml")}
    assert bootstraps <= shown, bootstraps - shown


@pytest.mark.parametrize("page,ref,body", marked(), ids=[f"{p}:{r}" for p, r, _ in marked()])
def test_block_equals_its_source(page, ref, body):
    assert body == source(ref), f"{page} block for {ref} differs from the file"


def test_an_edited_file_would_be_caught():
    page, ref, body = next(m for m in marked()
                           if m[0] == "docs/deploy-envoy.md"
                           and m[1] == "deploy/envoy/envoy.yaml#wasm-filter")
    assert body == source(ref)
    assert body.replace("fail_open: false", "fail_open: true") != source(ref)
    assert "fail_open: false" in body


def test_the_readme_example_is_the_deploy_filter():
    refs = [ref for ref, _, _ in blocks("README.md") if ref]
    assert refs == ["deploy/envoy/envoy.yaml#wasm-filter", "deploy/envoy/envoy.yaml#idp-cluster"]
    page, ref, body = next(m for m in marked() if m[0] == "README.md")
    assert body == source(ref)
    assert body.replace('"orders-api"', '"other-api"') != source(ref)
    assert '"audiences": ["orders-api"]' in body
