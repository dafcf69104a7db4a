//! A whole request: the first line is `:path` (query parameters included),
//! every other line a `name: value` header. Covers extraction from headers,
//! query parameters and cookies, route matching, header sanitising.
#![no_main]

use jwt_guard_fuzz::decide;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let path = lines.next().unwrap_or("/").to_owned();
    let mut entries = vec![(":path".to_owned(), path)];
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            entries.push((name.trim().to_ascii_lowercase(), value.trim_start().to_owned()));
        }
    }
    let _ = decide(entries);
});
