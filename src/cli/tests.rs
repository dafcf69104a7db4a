use super::*;

fn run_args(args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, &mut std::io::empty(), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn usage_errors_exit_2_with_the_usage() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["check"],
        &["explain"],
        &["explain", "x", "--now"],
        &["schema", "x"],
    ] {
        let (code, _, err) = run_args(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("usage:"), "{args:?}: {err}");
    }
}

#[test]
fn schema_prints_the_json_schema() {
    let (code, out, _) = run_args(&["schema"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["title"], "jwt-guard configuration");
}

#[test]
fn unreadable_files_are_reported_not_panicked_on() {
    let (code, out, _) = run_args(&["check", "/nonexistent/config.json"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("/nonexistent/config.json: error: cannot read"),
        "{out}"
    );
    let (code, _, err) = run_args(&["explain", "/nonexistent/config.json"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/config.json"), "{err}");
}

#[test]
fn a_bad_token_is_an_error_not_a_panic() {
    let (code, _, err) = run_args(&["token", "not-a-token"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a JWT"), "{err}");
}
