"""The JSON Schema (schema/jwt-guard.schema.json) with a real draft-4
validator (the `jsonschema` package), next to the module's own compiler:

- the schema is a valid draft-4 schema (Kong 3.5+ validates filter configs
  with draft-4 and refuses other drafts);
- the schema's examples, envoy/demo.json's filter config and the
  configuration examples of the README and the docs/ pages pass the schema
  and load into the module;
- invalid configs are refused by both, the module naming the JSON path.

That every field the compiler reads is in the schema, and every schema
property is accepted by the compiler, is checked in Rust
(src/config/schema_tests.rs).
"""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
import yaml

from config_schema import EXAMPLES, assert_valid, compile_config, schema, schema_errors
from envoy_runner import NATIVE_ONLY, REPO
from tokens import jwks, session_keys

pytestmark = pytest.mark.skipif(NATIVE_ONLY, reason="wasm-only")

K = session_keys()
JWKS = jwks(K.jwk("rsa", kid="k1"))
MINIMAL = json.loads((REPO / "schema" / "examples" / "minimal.json").read_text())


def with_real_keys(cfg):
    """Docs examples elide the JWKS (`"{\\"keys\\":[ ... ]}"`, `"..."`):
    put a real one in, so the module can load them."""
    cfg = copy.deepcopy(cfg)

    def walk(v):
        if isinstance(v, dict):
            src = v.get("local_jwks")
            if isinstance(src, dict) and "..." in str(src.get("inline_string", "")):
                src["inline_string"] = JWKS
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(cfg)
    return cfg


def test_schema_is_valid_draft_4():
    s = schema()
    assert s["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(s)
    assert "lowerCamelCase" in s["description"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_schema_examples_validate_and_load(path):
    assert_valid(json.loads(path.read_text()), str(path.relative_to(REPO)))


def test_demo_config_validates_and_loads():
    cfg = json.loads((REPO / "envoy" / "demo.json").read_text())
    assert schema_errors(cfg) == []
    cfg["providers"]["demo"]["local_jwks"]["inline_string"] = JWKS
    assert_valid(cfg, "envoy/demo.json")


# ---------------------------------------------------------------- docs

# Pages whose code blocks are deploy/ files: test_deploy.py checks those
# configs, and test_docs_snippets.py that the blocks equal the files.
DEPLOY_PAGES = ("docs/deploy-envoy.md", "docs/deploy-istio.md", "docs/deploy-kong.md")


def doc_pages() -> list[str]:
    pages = ["README.md"] + sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))
    return [p for p in pages if p not in DEPLOY_PAGES]


def _wasm_filters(node) -> list[dict]:
    """Every `envoy.filters.http.wasm` filter anywhere in a YAML document."""
    if isinstance(node, list):
        return [f for item in node for f in _wasm_filters(item)]
    if not isinstance(node, dict):
        return []
    if node.get("name") == "envoy.filters.http.wasm":
        return [node]
    return [f for v in node.values() for f in _wasm_filters(v)]


def envoy_yaml_config(body: str) -> dict:
    """The jwt-guard config of an Envoy YAML block: the wasm filter's
    configuration value, in an `http_filters:` list, a list of filters or a
    whole bootstrap."""
    wasm = _wasm_filters(yaml.safe_load(body))
    assert len(wasm) == 1, body[:80]
    return json.loads(wasm[0]["typed_config"]["config"]["configuration"]["value"])


def doc_configs(page: str) -> list[tuple[str, dict]]:
    """The configuration examples of one page: an Envoy YAML's
    configuration value and every JSON block that is a config, a
    `"providers": {...}` fragment or a provider fragment. Reply bodies are
    left out, and so are blocks marked `<!-- not a configuration -->` (a
    command's JSON output, a meta file's excerpt)."""
    text = (REPO / page).read_text()
    out = []
    blocks = re.findall(r"(<!-- not a configuration -->\n)?```(\w+)\n(.*?)```", text, re.S)
    for n, (marked, lang, body) in enumerate(blocks):
        if marked:
            continue
        name = f"{page} block {n} ({lang})"
        if lang == "yaml" and "configuration:" in body:
            out.append((name, envoy_yaml_config(body)))
            continue
        if lang != "json":
            continue
        try:
            doc = json.loads(body)
        except json.JSONDecodeError:
            doc = json.loads("{" + body + "}")  # a member: "providers": {...}
        if "status" in doc:
            continue  # a problem+json reply body
        if "providers" not in doc and "rules" not in doc:
            assert all(isinstance(p, dict) and "issuer" in p for p in doc.values()), name
            doc = {"providers": doc}  # "idp": {...}
        out.append((name, doc))
    return out


def test_docs_examples_validate_and_load():
    configs = [c for page in doc_pages() for c in doc_configs(page)]
    # The README's Envoy YAML, the minimal config, the remote keys, the
    # authorize and the hardening examples.
    assert len(configs) >= 5, [n for n, _ in configs]
    pages = {name.partition(" block ")[0] for name, _ in configs}
    assert {"README.md", "docs/configuration.md", "docs/remote-keys.md",
            "docs/authorization.md", "docs/hardening.md"} <= pages, pages
    for name, cfg in configs:
        assert schema_errors(cfg) == [], name
        assert_valid(with_real_keys(cfg), name)


def test_readme_envoy_example_validates_and_loads():
    """The one Envoy example the README shows (test_docs_snippets.py holds
    it equal to deploy/envoy/envoy.yaml)."""
    configs = doc_configs("README.md")
    assert [name for name, _ in configs] == ["README.md block 1 (yaml)"], configs
    name, cfg = configs[0]
    assert schema_errors(cfg) == [], name
    assert_valid(with_real_keys(cfg), name)


# ---------------------------------------------------------------- invalid

def _provider(**fields):
    cfg = copy.deepcopy(MINIMAL)
    cfg["providers"]["idp"].update(fields)
    return cfg


def _rule(**fields):
    cfg = copy.deepcopy(MINIMAL)
    cfg["rules"][0].update(fields)
    return cfg


REMOTE = MINIMAL["providers"]["idp"]["remote_jwks"]
P = "providers.idp"

# (name, config, what the module's error starts with)
INVALID = [
    ("not an object", [MINIMAL], "configuration must be a JSON object"),
    ("wrong @type", dict(MINIMAL, **{"@type": "type.googleapis.com/x"}), "@type: expected"),
    ("unknown top-level field", dict(MINIMAL, provider={}), "provider: unknown field"),
    ("unknown provider field", _provider(audience="a"), f"{P}.audience: unknown field"),
    ("boolean as string", _provider(forward="yes"), f"{P}.forward: expected a boolean"),
    ("duration without unit", _provider(remote_jwks=dict(REMOTE, cache_duration="300")),
     f"{P}.remote_jwks.cache_duration: invalid duration"),
    ("no key source", {"providers": {"idp": {"issuer": "i"}}},
     f"{P}: one of local_jwks, remote_jwks, discovery, introspection is required"),
    ("two key sources", _provider(local_jwks={"inline_string": JWKS}),
     f"{P}: only one of local_jwks, remote_jwks may be set"),
    ("no cluster", _provider(remote_jwks={"http_uri": {"uri": "https://idp.example.com/k"}}),
     f"{P}.remote_jwks.http_uri.cluster: must name the upstream"),
    ("JWKS from a file", {"providers": {"idp": {"local_jwks": {"filename": "/k.json"}}}},
     f"{P}.local_jwks.filename: reading files is not possible"),
    ("Envoy field not supported", _provider(payload_in_metadata="jwt"),
     f"{P}.payload_in_metadata: is an Envoy field"),
    ("discovery without issuer", {"providers": {"idp": {"discovery": REMOTE}}},
     f"{P}: discovery needs the provider's issuer"),
    ("unknown algorithm", _provider(allowed_algorithms=["none"]),
     f"{P}.allowed_algorithms[0]: unknown algorithm"),
    ("negative cache size", dict(MINIMAL, token_cache={"max_entries": -1}),
     "token_cache.max_entries: expected an integer"),
    ("rule without match", {"providers": MINIMAL["providers"], "rules": [{}]},
     'rules[0]: missing required field "match"'),
    ("two requirement kinds", _rule(requires={"provider_name": "idp", "allow_missing": {}}),
     "rules[0].requires: only one of provider_name, allow_missing may be set"),
    ("requires_any of one", _rule(requires={"requires_any": {"requirements": [{}]}}),
     "rules[0].requires.requires_any.requirements: needs at least 2"),
    ("two header matchers", _rule(match={"prefix": "/", "headers": [
        {"name": "a", "exact_match": "x", "prefix_match": "y"}]}),
     "rules[0].match.headers[0]: only one of exact_match, prefix_match may be set"),
    ("two condition kinds", _rule(authorize={"claim": "sub", "equals": "a",
                                             "scopes": {"all_of": ["s"]}}),
     "rules[0].authorize: only one of scopes, claim may be set"),
    ("operator without claim", _rule(authorize={"scopes": {"all_of": ["s"]}, "equals": 1}),
     "rules[0].authorize.equals: unknown field"),
    ("provider on a nested condition", _rule(authorize={"all": [
        {"provider": "idp", "claim": "sub", "present": True}]}),
     "rules[0].authorize.all[0].provider: unknown field"),
    ("scope with a space", _rule(authorize={"scopes": {"any_of": ["a b"]}}),
     "rules[0].authorize.scopes.any_of: \"a b\" is not a scope"),
]


@pytest.mark.parametrize("cfg,error", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_config_is_refused_by_schema_and_module(cfg, error):
    assert schema_errors(cfg), "the schema accepts it"
    ok, logged = compile_config(cfg)
    assert not ok, "the module accepts it"
    assert logged.startswith(error), logged


def test_a_valid_base_is_what_the_invalid_cases_break():
    assert_valid(MINIMAL, "minimal.json")
    assert_valid(_rule(authorize={"all": [{"claim": "sub", "present": True}]}), "authorize")
