use super::*;
use serde_json::json;

fn one(text: &str) -> Value {
    let docs = parse(text).unwrap();
    assert_eq!(docs.len(), 1, "{docs:?}");
    docs.into_iter().next().unwrap()
}

fn error(text: &str) -> YamlError {
    parse(text).unwrap_err()
}

#[test]
fn block_mappings_and_sequences_nest() {
    let text = "\
a: 1
b:
  c: two
  d:
  - x
  - y: 3
    z: [1, 2]
e:
- f
";
    assert_eq!(
        one(text),
        json!({"a": 1, "b": {"c": "two", "d": ["x", {"y": 3, "z": [1, 2]}]}, "e": ["f"]})
    );
}

#[test]
fn scalars_resolve_as_yaml_1_2_core() {
    let v = one(
        "a: ~\nb: null\nc: true\nd: False\ne: -12\nf: 1.5\ng: 0x1f\nh: 1e3\ni: 2s\nj: '007'\nk:\n",
    );
    assert_eq!(
        v,
        json!({"a": null, "b": null, "c": true, "d": false, "e": -12, "f": 1.5,
               "g": 31, "h": 1000.0, "i": "2s", "j": "007", "k": null})
    );
}

#[test]
fn quoted_scalars_unescape() {
    let v = one(r#"a: "x\"y\n\u00e9"
b: 'it''s'
"@type": "t # not a comment" # a comment
"#);
    assert_eq!(
        v,
        json!({"a": "x\"y\né", "b": "it's", "@type": "t # not a comment"})
    );
}

#[test]
fn comments_and_blank_lines_are_ignored() {
    let v = one("# head\n\na: b # tail\n  # indented comment\nc: https://x.example/#frag\n");
    assert_eq!(v, json!({"a": "b", "c": "https://x.example/#frag"}));
}

#[test]
fn flow_collections_may_span_lines() {
    let v = one("m: { name: \":method\", exact_match: GET,\n     other: [a, 'b c',\n  {}] }\n");
    assert_eq!(
        v,
        json!({"m": {"name": ":method", "exact_match": "GET", "other": ["a", "b c", {}]}})
    );
}

#[test]
fn literal_block_scalars_keep_lines_and_chomp() {
    let text = "a: |\n  {\n    \"x\": 1\n  }\nb: |-\n  no newline\nc: |+\n  kept\n\nd: x\n";
    let v = one(text);
    assert_eq!(v["a"], json!("{\n  \"x\": 1\n}\n"));
    assert_eq!(v["b"], json!("no newline"));
    assert_eq!(v["c"], json!("kept\n\n"));
    assert_eq!(v["d"], json!("x"));
}

#[test]
fn folded_block_scalars_join_lines() {
    let v = one("a: >\n  one\n  two\n\n  three\n    deeper\n");
    assert_eq!(v["a"], json!("one two\nthree\n  deeper\n"));
}

#[test]
fn block_scalars_in_sequences() {
    let v = one("- |\n  text\n- b\n");
    assert_eq!(v, json!(["text\n", "b"]));
}

#[test]
fn documents_split_on_three_dashes() {
    let docs = parse("a: 1\n---\n# only a comment\n---\nb: 2\n...\n").unwrap();
    assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
}

#[test]
fn json_is_read_too() {
    let v = one("{\"a\": [1, 2.5, \"x\"], \"b\": {\"c\": null}}");
    assert_eq!(v, json!({"a": [1, 2.5, "x"], "b": {"c": null}}));
}

#[test]
fn anchors_aliases_and_tags_are_refused_with_their_line() {
    for (text, line, says) in [
        ("a: 1\nb: &x 2\n", 2, "anchors"),
        ("a: *x\n", 1, "aliases"),
        ("a: !!str 1\n", 1, "tags"),
        ("%YAML 1.2\n---\na: 1\n", 1, "directives"),
        ("? a\n: b\n", 1, "complex keys"),
    ] {
        let e = error(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(says), "{text:?}: {e}");
    }
}

#[test]
fn ambiguous_plain_scalars_are_refused() {
    assert!(error("a: yes\n").message.contains("quote it"));
    assert!(error("a: 0755\n").message.contains("octal"));
    assert!(error("a: .inf\n").message.contains("JSON"));
}

#[test]
fn malformed_structure_is_refused() {
    assert_eq!(error("a: 1\na: 2\n").message, "duplicate key \"a\"");
    assert_eq!(error("a: plain\n  continued\n").line, 2);
    assert_eq!(error("a:\n\t- x\n").line, 2);
    assert!(error("a: [1, 2\n").message.contains("unterminated"));
    assert!(error("a: {b: 1, b: 2}\n").message.contains("duplicate"));
    assert!(error("a: \"open\n").message.contains("quoted"));
    assert!(
        error("a: 1\n  b: 2\n").message.contains("indentation")
            || error("a: 1\n  b: 2\n").line == 2
    );
}

#[test]
fn a_key_value_inside_a_scalar_position_is_refused() {
    assert_eq!(error("- a\n- b: c: d\n").line, 2);
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(error(&flow).message.contains("levels deep"));
    let block = format!("{}x\n", "- ".repeat(100_000));
    assert!(error(&block).message.contains("levels deep"));
    let ok = format!("a: {}{}\n", "[".repeat(100), "]".repeat(100));
    assert!(parse(&ok).is_ok());
}
