//! Test builds only: records every field name the compiler asks an `Obj`
//! for (and every member of a oneof it checks), with the JSON path of the
//! object asked. `schema_tests` compiles configs under [`record`] to derive
//! the fields the compiler accepts from the code itself.

use std::cell::RefCell;

thread_local! {
    static ASKED: RefCell<Option<Vec<(String, String)>>> = const { RefCell::new(None) };
}

/// Called by `Obj` for each field name it looks up at `path`.
pub fn note(path: &str, name: &str) {
    ASKED.with(|a| {
        if let Some(seen) = a.borrow_mut().as_mut() {
            seen.push((path.to_owned(), name.to_owned()));
        }
    });
}

/// Runs `f`, returning its result and the (object path, field name) pairs
/// asked for meanwhile on this thread.
pub fn record<T>(f: impl FnOnce() -> T) -> (T, Vec<(String, String)>) {
    ASKED.with(|a| *a.borrow_mut() = Some(Vec::new()));
    let out = f();
    let seen = ASKED.with(|a| a.borrow_mut().take()).unwrap_or_default();
    (out, seen)
}

/// Runs `f` without recording: for JSON the compiler generated itself (the
/// Istio dialect compiles istiod's provider and requirement JSON through the
/// plain compiler), whose fields are not the user's.
pub fn unrecorded<T>(f: impl FnOnce() -> T) -> T {
    let saved = ASKED.with(|a| a.borrow_mut().take());
    let out = f();
    ASKED.with(|a| *a.borrow_mut() = saved);
    out
}
