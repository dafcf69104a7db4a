//! A plugin configuration: the whole config compiler (JSON paths in errors,
//! matchers, regexes, rules, authorize conditions, remote JWKS settings).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = jwt_guard::config::compile(&text);
});
