//! The JSON Schema (`schema/jwt-guard.schema.json`) held against the
//! compiler, both ways, so the two cannot drift apart:
//!
//! - every field name the compiler asks for while compiling the schema's
//!   example configs (recorded by `asked` inside `Obj`, whether the field is
//!   present or not, and every member of each oneof it checks) is a property
//!   of the schema object that describes that place;
//! - every property the schema declares is used by an example config, at
//!   the place the schema declares it, and the examples compile.
//!
//! The second makes the examples reach every object and oneof branch the
//! schema knows, so the first sees the fields the compiler reads there.

use super::{asked, compile};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const SCHEMA: &str = include_str!("../../schema/jwt-guard.schema.json");
const EXAMPLES: [(&str, &str); 3] = [
    (
        "everything.json",
        include_str!("../../schema/examples/everything.json"),
    ),
    (
        "minimal.json",
        include_str!("../../schema/examples/minimal.json"),
    ),
    (
        "istio.json",
        include_str!("../../schema/examples/istio.json"),
    ),
];

/// A schema node with the JSON pointer it is found at (`#/definitions/x`).
#[derive(Clone)]
struct Node<'a> {
    ptr: String,
    v: &'a Value,
}

/// Where an object member is described.
enum Member<'a> {
    /// A property of the object schema at `owner`.
    Property {
        owner: String,
        node: Node<'a>,
    },
    /// A value of a map (`additionalProperties`).
    MapValue(Node<'a>),
    Nowhere,
}

fn resolve<'a>(root: &'a Value, mut node: Node<'a>) -> Node<'a> {
    while let Some(r) = node.v.get("$ref").and_then(Value::as_str) {
        let target = r
            .trim_start_matches("#/")
            .split('/')
            .fold(root, |v, key| &v[key]);
        assert!(!target.is_null(), "dangling $ref {r}");
        node = Node {
            ptr: r.to_owned(),
            v: target,
        };
    }
    node
}

/// The node, resolved, and through `allOf` the object schemas it is made of.
fn parts<'a>(root: &'a Value, node: Node<'a>) -> Vec<Node<'a>> {
    let node = resolve(root, node);
    let mut out = vec![node.clone()];
    for (i, sub) in node.v["allOf"].as_array().into_iter().flatten().enumerate() {
        let ptr = format!("{}/allOf/{i}", node.ptr);
        out.extend(parts(root, Node { ptr, v: sub }));
    }
    out
}

fn member<'a>(root: &'a Value, node: &Node<'a>, key: &str) -> Member<'a> {
    let parts = parts(root, node.clone());
    for p in &parts {
        if let Some(v) = p.v["properties"].get(key) {
            let ptr = format!("{}/properties/{key}", p.ptr);
            let owner = p.ptr.clone();
            return Member::Property {
                owner,
                node: Node { ptr, v },
            };
        }
    }
    for p in &parts {
        if let Some(v) = p.v.get("additionalProperties").filter(|v| v.is_object()) {
            let ptr = format!("{}/additionalProperties", p.ptr);
            return Member::MapValue(Node { ptr, v });
        }
    }
    Member::Nowhere
}

fn items<'a>(root: &'a Value, node: &Node<'a>) -> Option<Node<'a>> {
    parts(root, node.clone()).into_iter().find_map(|p| {
        let v = p.v.get("items").filter(|v| v.is_object())?;
        let ptr = format!("{}/items", p.ptr);
        Some(Node { ptr, v })
    })
}

/// `providers.idp.from_headers[0]` -> keys and list indices, in order
/// (`None` for an index). Example map keys hold no `.` or `[`.
fn segments(path: &str) -> Vec<Option<&str>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next().filter(|k| !k.is_empty()) {
            out.push(Some(key));
        }
        out.extend(pieces.map(|_| None));
    }
    out
}

/// The schema node describing the object at a compiler path.
fn place<'a>(root: &'a Value, path: &str) -> Result<Node<'a>, String> {
    let mut node = Node {
        ptr: "#".to_owned(),
        v: root,
    };
    for seg in segments(path) {
        node = match seg {
            None => items(root, &node).ok_or(format!("{} has no items", node.ptr))?,
            Some(key) => match member(root, &node, key) {
                Member::Property { node, .. } | Member::MapValue(node) => node,
                Member::Nowhere => return Err(format!("{} has no member {key:?}", node.ptr)),
            },
        };
    }
    Ok(resolve(root, node))
}

/// (a): fields the compiler asked for that the schema has no place for.
fn unplaced(root: &Value, asked: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, field) in asked {
        match place(root, path) {
            Err(e) => out.push(format!("{path}: {e}")),
            Ok(node) => {
                if !matches!(member(root, &node, field), Member::Property { .. }) {
                    out.push(format!("{path}: {field} (not a property of {})", node.ptr));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every (object schema, property) pair the schema declares.
fn declared(root: &Value) -> BTreeSet<(String, String)> {
    fn collect(ptr: &str, v: &Value, out: &mut BTreeSet<(String, String)>) {
        for (k, sub) in v["properties"].as_object().into_iter().flatten() {
            out.insert((ptr.to_owned(), k.clone()));
            collect(&format!("{ptr}/properties/{k}"), sub, out);
        }
        for key in ["items", "additionalProperties"] {
            if let Some(sub) = v.get(key).filter(|s| s.is_object()) {
                collect(&format!("{ptr}/{key}"), sub, out);
            }
        }
        for (i, sub) in v["allOf"].as_array().into_iter().flatten().enumerate() {
            collect(&format!("{ptr}/allOf/{i}"), sub, out);
        }
    }
    let mut out = BTreeSet::new();
    collect("#", root, &mut out);
    for (name, def) in root["definitions"].as_object().into_iter().flatten() {
        collect(&format!("#/definitions/{name}"), def, &mut out);
    }
    out
}

/// The (object schema, property) pairs an instance uses; members the
/// schema has no place for are pushed to `stray`.
fn used<'a>(
    root: &'a Value,
    node: &Node<'a>,
    inst: &Value,
    at: &str,
    out: &mut BTreeSet<(String, String)>,
    stray: &mut Vec<String>,
) {
    match inst {
        Value::Object(map) => {
            for (k, v) in map {
                let child = match member(root, node, k) {
                    Member::Property { owner, node } => {
                        out.insert((owner, k.clone()));
                        node
                    }
                    Member::MapValue(node) => node,
                    Member::Nowhere => {
                        stray.push(format!("{at}.{k}"));
                        continue;
                    }
                };
                used(root, &child, v, &format!("{at}.{k}"), out, stray);
            }
        }
        Value::Array(list) => {
            if let Some(it) = items(root, node) {
                for (i, v) in list.iter().enumerate() {
                    used(root, &it, v, &format!("{at}[{i}]"), out, stray);
                }
            }
        }
        _ => {}
    }
}

/// (b): declared properties no example uses, and example members the
/// schema does not declare.
fn unused(root: &Value, examples: &[Value]) -> (Vec<String>, Vec<String>) {
    let mut seen = BTreeSet::new();
    let mut stray = Vec::new();
    let top = Node {
        ptr: "#".to_owned(),
        v: root,
    };
    for ex in examples {
        used(root, &top, ex, "", &mut seen, &mut stray);
    }
    let missing = declared(root)
        .difference(&seen)
        .map(|(owner, k)| format!("{owner}: {k}"))
        .collect();
    (missing, stray)
}

fn schema() -> Value {
    serde_json::from_str(SCHEMA).unwrap()
}

/// Compiles every example (each must compile), recording what was asked.
fn compile_examples() -> (Vec<Value>, BTreeSet<(String, String)>) {
    let mut values = Vec::new();
    let mut asked_all = BTreeSet::new();
    for (name, text) in EXAMPLES {
        let (res, asked) = asked::record(|| compile(text));
        if let Err(e) = res {
            panic!("schema/examples/{name} does not compile: {e}");
        }
        asked_all.extend(asked);
        values.push(serde_json::from_str(text).unwrap());
    }
    (values, asked_all)
}

#[test]
fn every_field_the_compiler_reads_is_in_the_schema_where_it_reads_it() {
    let (_, asked) = compile_examples();
    // The recorder saw the whole compile: the provider, remote and
    // condition fields, not just the top level.
    for (path, field) in [
        ("", "providers"),
        ("providers.remote.remote_jwks", "max_stale"),
        ("rules[0].authorize.all[8]", "gte"),
    ] {
        assert!(
            asked.contains(&(path.to_owned(), field.to_owned())),
            "{path} {field}"
        );
    }
    let problems = unplaced(&schema(), &asked);
    assert!(
        problems.is_empty(),
        "fields the compiler reads, missing from the schema: {problems:#?}"
    );
}

#[test]
fn every_schema_property_is_used_by_an_example_that_compiles() {
    let (examples, _) = compile_examples();
    let (missing, stray) = unused(&schema(), &examples);
    assert!(
        missing.is_empty(),
        "schema properties no example uses: {missing:#?}"
    );
    assert!(
        stray.is_empty(),
        "example members the schema lacks: {stray:#?}"
    );
}

#[test]
fn a_field_missing_from_the_schema_is_found_where_the_compiler_reads_it() {
    let (_, asked) = compile_examples();
    let at_remote =
        |path: &str| format!("{path}: max_stale (not a property of #/definitions/remote)");
    let mut s = schema();
    let remote = s["definitions"]["remote"]["properties"]
        .as_object_mut()
        .unwrap();
    let max_stale = remote.remove("max_stale").unwrap();
    let problems = unplaced(&s, &asked);
    assert_eq!(
        problems,
        vec![
            at_remote("providers.discovered.discovery"),
            // minimal.json's provider
            at_remote("providers.idp.remote_jwks"),
            at_remote("providers.oidc.discovery"),
            at_remote("providers.opaque.remote_jwks"),
            at_remote("providers.remote.remote_jwks")
        ]
    );
    // In the wrong place (on the provider instead of its remote_jwks) is
    // still missing where the compiler reads it.
    s["definitions"]["provider"]["properties"]["max_stale"] = max_stale;
    assert_eq!(unplaced(&s, &asked), problems);
}

#[test]
fn a_schema_property_no_example_uses_is_reported() {
    let (examples, _) = compile_examples();
    let mut s = schema();
    s["definitions"]["provider"]["properties"]["not_a_field"] = json!({"type": "string"});
    let (missing, stray) = unused(&s, &examples);
    assert_eq!(
        missing,
        vec!["#/definitions/provider: not_a_field".to_owned()]
    );
    assert!(stray.is_empty());
    // And an example member the schema lacks.
    let mut s = schema();
    s["properties"]
        .as_object_mut()
        .unwrap()
        .remove("problem_details")
        .unwrap();
    let (_, stray) = unused(&s, &examples);
    assert_eq!(stray, vec![".problem_details".to_owned()]);
}

#[test]
fn segments_split_keys_and_indices() {
    assert_eq!(segments(""), Vec::<Option<&str>>::new());
    assert_eq!(
        segments("rules[2].authorize.any[0]"),
        vec![Some("rules"), None, Some("authorize"), Some("any"), None]
    );
}

#[test]
fn schema_algorithms_are_the_implemented_ones() {
    let names: Vec<&str> = crate::jws::Alg::ALL.iter().map(|a| a.name()).collect();
    let s = schema();
    let listed: Vec<&str> = s["definitions"]["algorithm"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(listed, names);
}

#[test]
fn schema_is_draft_4_and_says_camel_case_is_accepted() {
    let s = schema();
    assert_eq!(s["$schema"], "http://json-schema.org/draft-04/schema#");
    assert!(s["description"]
        .as_str()
        .unwrap()
        .contains("lowerCamelCase"));
    // What it says holds: the minimal example in lowerCamelCase compiles.
    let camel = EXAMPLES[1]
        .1
        .replace("remote_jwks", "remoteJwks")
        .replace("http_uri", "httpUri");
    assert!(camel.contains("remoteJwks"));
    compile(&camel).unwrap();
}
