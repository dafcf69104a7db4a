"""The deploy files (deploy/): they parse, the jwt-guard config inside each
passes the JSON Schema and loads into the module, the pieces that must
agree do (Istio cluster names and the ServiceEntry, Kong's meta file and
the schema, host:port on Kong, every Envoy http_uri.cluster a cluster of its
bootstrap), and the Envoy bootstraps load:

- as shipped, only the module's path changed, `envoy --mode validate`
  accepts every bootstrap in deploy/envoy/ (envoy.yaml, introspection.yaml,
  dpop.yaml; the TLS cluster to the IdP included, the module configured);

and deploy/envoy/envoy.yaml and deploy/envoy/dpop.yaml really serve:

- started in Envoy 1.40 with the listener and admin on 127.0.0.1 port 0,
  the backend cluster at an echo server and the IdP cluster at a test IdP
  (plain HTTP, its JWKS path), envoy.yaml answers 401 without a token, 200
  with a valid one, and 403 / 200 on the scope-protected route; the module
  fetched the keys itself, with the configured :authority;
- dpop.yaml answers deploy/envoy/dpop_client_example.py, with a token the
  test IdP's key signed and bound to the client's key, 200 (the token and
  the proof not forwarded), as shipped and with server nonces added (the
  client retries with the nonce); and the proof its `proof` command prints,
  sent as the docs' curl command sends it, 200 once and 401 when replayed,
  and 401 when it names https and the client says x-forwarded-proto: https
  (the edge's use_remote_address); a bound token as Bearer, or none, 401
  with the DPoP challenge.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import urllib.parse

import pytest
import yaml

from client import send
from model import Resolved
from config_schema import assert_valid, schema
from echo import EchoServer
from envoy_runner import REPO, WASM, Envoy, EnvoyError, envoy_binary
from idp_server import JWKS_PATH, IdP
from tokens import Tok, claims, session_keys
from wasm_stack import REALM, bearer_request, check, needs_wasm

pytestmark = needs_wasm

DEPLOY = REPO / "deploy"
ENVOY_YAML = DEPLOY / "envoy" / "envoy.yaml"
# Every Envoy bootstrap under deploy/envoy/, and how many providers it has.
ENVOY_BOOTSTRAPS = {"envoy.yaml": 1, "introspection.yaml": 2, "dpop.yaml": 1}
DPOP_YAML = DEPLOY / "envoy" / "dpop.yaml"
DPOP_CLIENT = DEPLOY / "envoy" / "dpop_client_example.py"
K = session_keys()


def docs(path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def wasm_filter(envoy_doc: dict) -> dict:
    """The jwt-guard filter's `config` in an Envoy bootstrap."""
    found = []
    for ls in envoy_doc["static_resources"]["listeners"]:
        for chain in ls["filter_chains"]:
            for f in chain["filters"]:
                for hf in f["typed_config"].get("http_filters", []):
                    if hf["name"] == "envoy.filters.http.wasm":
                        found.append(hf["typed_config"]["config"])
    assert len(found) == 1, found
    return found[0]


def wasm_plugins() -> dict[str, list[dict]]:
    return {p.name: [d for d in docs(p) if d["kind"] == "WasmPlugin"]
            for p in sorted((DEPLOY / "istio").glob("wasmplugin*.yaml"))}


def kong_filters() -> list[dict]:
    out = []
    for svc in docs(DEPLOY / "kong" / "kong.yml")[0]["services"]:
        for chain in svc.get("filter_chains", []):
            out += [f for f in chain["filters"] if f["name"] == "jwt_guard"]
    assert out, "no jwt_guard filter in kong.yml"
    return out


def remote_http_uris(cfg: dict) -> list[dict]:
    """Every http_uri the module calls: keys, discovery, introspection."""
    return [p[k]["http_uri"] for p in cfg["providers"].values()
            for k in ("remote_jwks", "discovery", "introspection") if k in p]


def test_every_deploy_file_parses():
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    assert len(files) >= 6, files
    for p in files:
        assert docs(p) if p.suffix != ".json" else json.loads(p.read_text()), p


# ---------------------------------------------------------------- configs

def test_envoy_bootstraps_are_every_yaml_in_deploy_envoy():
    assert {p.name for p in (DEPLOY / "envoy").glob("*.yaml")} == set(ENVOY_BOOTSTRAPS)


@pytest.mark.parametrize("name", sorted(ENVOY_BOOTSTRAPS))
def test_envoy_config_validates_and_loads(name):
    doc = docs(DEPLOY / "envoy" / name)[0]
    wasm = wasm_filter(doc)
    assert wasm["fail_open"] is False
    cfg = json.loads(wasm["configuration"]["value"])
    assert_valid(cfg, f"deploy/envoy/{name}")
    # The module dispatches to these by name: Envoy would only find a
    # missing one at request time.
    clusters = {c["name"] for c in doc["static_resources"]["clusters"]}
    for http_uri in remote_http_uris(cfg):
        assert http_uri["cluster"] in clusters, (name, http_uri)


def test_istio_plugin_configs_validate_and_load():
    plugins = wasm_plugins()
    assert set(plugins) == {"wasmplugin.yaml", "wasmplugin-gateway.yaml"}
    for name, ps in plugins.items():
        for p in ps:
            assert_valid(p["spec"]["pluginConfig"], f"{name}: {p['metadata']['name']}")


def test_kong_filter_config_validates_and_loads():
    for f in kong_filters():
        assert_valid(f["config"], "deploy/kong/kong.yml")


# ---------------------------------------------------------------- Istio

def test_istio_plugins_are_closed_authn_filters_from_oci_in_both_forms():
    forms = set()
    for name, ps in wasm_plugins().items():
        for p in ps:
            spec = p["spec"]
            assert spec["phase"] == "AUTHN", name
            assert spec["failStrategy"] == "FAIL_CLOSE", name
            assert spec["url"].startswith("oci://"), name
            # One or the other: Istio refuses a WasmPlugin with both.
            assert ("selector" in spec) != ("targetRefs" in spec), name
            forms.add("selector" if "selector" in spec else "targetRefs")
    assert forms == {"selector", "targetRefs"}
    gateway = wasm_plugins()["wasmplugin-gateway.yaml"][0]["spec"]
    assert gateway["selector"]["matchLabels"] == {"istio": "ingressgateway"}


def test_istio_clusters_are_the_ones_the_service_entry_makes():
    resources = docs(DEPLOY / "istio" / "serviceentry.yaml")
    entries = [r["spec"] for r in resources if r["kind"] == "ServiceEntry"]
    rules = [r["spec"] for r in resources if r["kind"] == "DestinationRule"]
    made = {f"outbound|{port['number']}||{host}": (host, port["number"])
            for se in entries for host in se["hosts"] for port in se["ports"]}
    for name, ps in wasm_plugins().items():
        for p in ps:
            for http_uri in remote_http_uris(p["spec"]["pluginConfig"]):
                assert http_uri["cluster"] in made, (name, http_uri["cluster"], made)
                host, port = made[http_uri["cluster"]]
                assert urllib.parse.urlsplit(http_uri["uri"]).hostname == host
                # The module speaks plain HTTP to the cluster: TLS must be
                # originated for an https URI.
                tls = [s["tls"] for dr in rules if dr["host"] == host
                       for s in dr["trafficPolicy"]["portLevelSettings"]
                       if s["port"]["number"] == port]
                assert tls and tls[0]["mode"] == "SIMPLE" and tls[0]["sni"] == host


# ---------------------------------------------------------------- Kong

def kong_conf() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / "kong" / "kong.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_kong_conf_turns_wasm_on_with_a_filters_path():
    conf = kong_conf()
    assert conf["wasm"] == "on"
    assert conf["wasm_filters_path"].startswith("/")
    assert conf["nginx_wasm_tls_verify_cert"] == "on"


def test_kong_meta_file_is_the_schema_and_up_to_date():
    meta_path = DEPLOY / "kong" / "jwt_guard.meta.json"
    meta = json.loads(meta_path.read_text())
    assert meta["config_schema"] == schema()
    assert {p["label"] for p in meta["metrics"]["label_patterns"]} == {"provider", "reason"}
    run = subprocess.run([sys.executable, str(DEPLOY / "kong" / "make_meta.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # Kong pairs <name>.meta.json with the filter <name>.wasm.
    assert {f["name"] for f in kong_filters()} == {meta_path.name.removesuffix(".meta.json")}


def test_kong_fetches_keys_from_host_port_with_nothing_empty():
    def no_empty(v, at):
        assert v != [] and v != {}, f"{at}: empty (Kong's encoder turns [] into {{}})"
        for k, x in (v.items() if isinstance(v, dict) else enumerate(v)
                     if isinstance(v, list) else ()):
            no_empty(x, f"{at}.{k}")
    for f in kong_filters():
        no_empty(f["config"], "config")
        for http_uri in remote_http_uris(f["config"]):
            host, _, port = http_uri["cluster"].rpartition(":")
            assert host == urllib.parse.urlsplit(http_uri["uri"]).hostname
            assert port.isdigit()


# ---------------------------------------------------------------- Envoy

@pytest.mark.parametrize("name", sorted(ENVOY_BOOTSTRAPS))
def test_envoy_yaml_as_shipped_passes_envoy_validate(tmp_path, name):
    text = (DEPLOY / "envoy" / name).read_text()
    assert text.count("/etc/envoy/jwt_guard.wasm") == 2  # comment + code
    cfg = tmp_path / name
    cfg.write_text(text.replace("filename: /etc/envoy/jwt_guard.wasm", f"filename: {WASM}"))
    run = subprocess.run([envoy_binary(), "--mode", "validate", "-c", str(cfg),
                          "--disable-hot-restart"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    configured = f"jwt-guard: configured {ENVOY_BOOTSTRAPS[name]} provider(s)"
    assert configured in run.stdout + run.stderr


def endpoint(cluster: dict, port: int) -> None:
    cluster["type"] = "STATIC"
    cluster.pop("dns_lookup_family", None)
    cluster["load_assignment"]["endpoints"] = [{"lb_endpoints": [{"endpoint": {"address": {
        "socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}]


def runnable(doc: dict, echo_port: int, idp_port: int) -> tuple[dict, dict]:
    """envoy.yaml on this machine: 127.0.0.1 port 0, the built module, the
    backend at the echo server, the IdP cluster at the test IdP without TLS
    fetching the IdP's JWKS path. Also the jwt-guard config, for its issuer."""
    doc = copy.deepcopy(doc)
    doc["admin"]["address"]["socket_address"].update(address="127.0.0.1", port_value=0)
    for ls in doc["static_resources"]["listeners"]:
        ls["address"]["socket_address"].update(address="127.0.0.1", port_value=0)
        ls["enable_reuse_port"] = False
    wasm = wasm_filter(doc)
    wasm["vm_config"]["code"]["local"]["filename"] = str(WASM)
    cfg = json.loads(wasm["configuration"]["value"])
    (http_uri,) = remote_http_uris(cfg)
    parts = urllib.parse.urlsplit(http_uri["uri"])
    http_uri["uri"] = urllib.parse.urlunsplit(parts._replace(path=JWKS_PATH))
    wasm["configuration"]["value"] = json.dumps(cfg)
    for c in doc["static_resources"]["clusters"]:
        if c["name"] == http_uri["cluster"]:
            c.pop("transport_socket")
            endpoint(c, idp_port)
        else:
            endpoint(c, echo_port)
    return doc, cfg


def test_envoy_yaml_serves_401_without_and_200_with_a_token():
    idp = IdP()
    idp.set_keys(K.jwk("rsa", kid="k1"))
    echo = EchoServer().start()
    doc, cfg = runnable(docs(ENVOY_YAML)[0], echo.port, idp.port)
    envoy = Envoy(doc, "deploy-envoy").start()
    try:
        try:
            port = envoy.serve(["ingress"])["ingress"]
        except EnvoyError as e:
            pytest.fail(str(e))
        (provider,) = cfg["providers"].values()

        def token(**kw) -> str:
            payload = claims(iss=provider["issuer"], aud=provider["audiences"][0], **kw)
            return Tok(alg="RS256", key="rsa", kid="k1", payload=payload)()

        check(send(port, bearer_request(None, "/orders/1")), 401, body="Jwt is missing",
              www_authenticate=f'Bearer realm="{REALM}/orders/1"')
        resp = send(port, bearer_request(token(), "/orders/1"))
        check(resp, 200)
        upstream = dict(resp.upstream()["headers"])
        assert upstream["x-user"] == "alice" and "authorization" not in upstream
        assert idp.count(JWKS_PATH) >= 1
        assert {r["host"] for r in idp.requests(JWKS_PATH)} == {"idp.example.com"}
        check(send(port, bearer_request(None, "/health")), 200)
        resp = send(port, bearer_request(token(), "/admin"))
        check(resp, 403)
        assert 'error="insufficient_scope"' in resp.header("www-authenticate")
        check(send(port, bearer_request(token(scope="orders:admin"), "/admin")), 200)
    finally:
        envoy.stop()
        echo.stop()
        idp.stop()


def dpop_client(*args: str) -> subprocess.CompletedProcess:
    """deploy/envoy/dpop_client_example.py, as docs/dpop.md runs it."""
    return subprocess.run([sys.executable, str(DPOP_CLIENT), *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("nonce", [False, True], ids=["as-shipped", "with-nonces"])
def test_dpop_yaml_serves_the_example_client(tmp_path, nonce):
    idp = IdP()
    idp.set_keys(K.jwk("rsa", kid="k1"))
    echo = EchoServer().start()
    doc, cfg = runnable(docs(DPOP_YAML)[0], echo.port, idp.port)
    (provider,) = cfg["providers"].values()
    if nonce:
        provider["dpop"]["nonce"] = {"secret": "test-secret-" + "x" * 32, "lifetime": "60s"}
        wasm_filter(doc)["configuration"]["value"] = json.dumps(cfg)
    envoy = Envoy(doc, "deploy-dpop").start()
    try:
        try:
            port = envoy.serve(["ingress"])["ingress"]
        except EnvoyError as e:
            pytest.fail(str(e))
        key = str(tmp_path / "client-key.pem")
        made = dpop_client(key)
        assert made.returncode == 0, made.stderr
        jkt = made.stdout.strip()
        # The IdP's token, bound to the client's key.
        token = Tok(alg="RS256", key="rsa", kid="k1", payload=claims(
            iss=provider["issuer"], aud=provider["audiences"][0], cnf={"jkt": jkt}))()
        url = f"http://127.0.0.1:{port}/orders/1?expand=items"

        called = dpop_client(key, "call", "GET", url, token)
        assert called.returncode == 0, called.stdout + called.stderr
        status, _, body = called.stdout.partition("\n")
        assert status == "200", called.stdout
        upstream = dict(json.loads(body)["headers"])
        assert upstream["x-user"] == "alice"
        assert "authorization" not in upstream and "dpop" not in upstream

        # The docs' curl command: the `proof` command's output in a DPoP header.
        proof = dpop_client(key, "proof", "GET", url, token)
        assert proof.returncode == 0, proof.stderr
        curl = Resolved("GET", "/orders/1?expand=items", [
            ("host", f"127.0.0.1:{port}"), ("authorization", f"DPoP {token}"),
            ("dpop", proof.stdout.strip())], None, {}, None)
        realm = f"http://127.0.0.1:{port}/orders/1?expand=items"
        challenge = f'DPoP realm="{realm}", algs="ES256 EdDSA"'
        if nonce:
            resp = send(port, curl)
            check(resp, 401, body="DPoP proof needs a valid server nonce",
                  www_authenticate=f'{challenge}, error="use_dpop_nonce"')
            assert resp.header("dpop-nonce")
        else:
            check(send(port, curl), 200)
            check(send(port, curl), 401, body="DPoP proof was already used",
                  www_authenticate=f'{challenge}, error="invalid_dpop_proof"')
            # use_remote_address: a client's x-forwarded-proto names no scheme.
            https = url.replace("http://", "https://")
            spoofed = Resolved("GET", "/orders/1?expand=items", [
                ("host", f"127.0.0.1:{port}"), ("authorization", f"DPoP {token}"),
                ("x-forwarded-proto", "https"),
                ("dpop", dpop_client(key, "proof", "GET", https, token).stdout.strip())],
                None, {}, None)
            check(send(port, spoofed), 401, body="DPoP proof [htu] is not the request URI",
                  www_authenticate=f'{challenge}, error="invalid_dpop_proof"')

        bearer = Resolved("GET", "/orders/1?expand=items", [
            ("host", f"127.0.0.1:{port}"), ("authorization", f"Bearer {token}")],
            None, {}, None)
        check(send(port, bearer), 401, body="DPoP-bound token sent without DPoP",
              www_authenticate=f'{challenge}, error="invalid_token"')
        none = Resolved("GET", "/orders/1?expand=items", [("host", f"127.0.0.1:{port}")],
                        None, {}, None)
        check(send(port, none), 401, body="Jwt is missing", www_authenticate=challenge)
        check(send(port, bearer_request(None, "/health")), 200)
    finally:
        envoy.stop()
        echo.stop()
        idp.stop()
