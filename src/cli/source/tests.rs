use super::*;

#[test]
fn a_plain_json_config_is_its_own_text() {
    let text = "{\"providers\": {}, \"rules\": []}";
    let found = configs(text).unwrap();
    assert_eq!(
        found,
        vec![Found {
            place: String::new(),
            text: text.to_owned()
        }]
    );
}

#[test]
fn an_envoy_filter_gives_its_configuration_string() {
    let text = r#"
static_resources:
  listeners:
  - filter_chains:
    - filters:
      - typed_config:
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                root_id: jwt_guard
                vm_config: { runtime: envoy.wasm.runtime.v8 }
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: |
                    {"rules": []}
"#;
    let found = configs(text).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].text, "{\"rules\": []}\n");
    assert!(
        found[0]
            .place
            .ends_with("http_filters[0].typed_config.config.configuration.value"),
        "{}",
        found[0].place
    );
}

#[test]
fn a_typed_config_in_json_is_unwrapped() {
    let text = r#"{"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "{\"rules\": []}"}"#;
    let found = configs(text).unwrap();
    assert_eq!(
        found,
        vec![Found {
            place: "value".into(),
            text: "{\"rules\": []}".into()
        }]
    );
}

#[test]
fn every_wasm_plugin_of_a_multi_document_file_is_found() {
    let text = "\
kind: WasmPlugin
metadata: { name: a, namespace: ns }
spec:
  pluginConfig:
    rules: []
---
kind: ServiceEntry
spec: {}
---
kind: WasmPlugin
metadata: { name: b }
spec: {}
";
    let found = configs(text).unwrap();
    assert_eq!(
        found,
        vec![
            Found {
                place: "document 1: spec.pluginConfig (WasmPlugin ns/a)".into(),
                text: "{\"rules\":[]}".into()
            },
            Found {
                place: "document 3: spec.pluginConfig (WasmPlugin b)".into(),
                text: String::new()
            },
        ]
    );
}

#[test]
fn a_kong_filter_config_may_be_a_string_or_an_object() {
    let text = "\
_format_version: \"3.0\"
services:
- name: s
  filter_chains:
  - filters:
    - name: other
      config: {}
    - name: jwt_guard
      config: { rules: [] }
    - name: jwt_guard
      config: '{\"rules\": []}'
";
    let found = configs(text).unwrap();
    let places: Vec<_> = found.iter().map(|f| f.place.as_str()).collect();
    assert_eq!(
        places,
        [
            "services[0].filter_chains[0].filters[1].config",
            "services[0].filter_chains[0].filters[2].config"
        ]
    );
    assert_eq!(found[1].text, "{\"rules\": []}");
}

#[test]
fn a_file_without_a_config_is_an_error() {
    assert!(configs("kind: Service\nspec: {}\n")
        .unwrap_err()
        .contains("no jwt-guard configuration"));
    assert!(configs("a: &x 1\n")
        .unwrap_err()
        .starts_with("line 1: anchors"));
}
