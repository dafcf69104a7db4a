use super::*;
use crate::authn::Verified;
use crate::fixtures;
use serde_json::json;
use std::rc::Rc;

/// `local` with local keys, `remote` with remote keys, `opaque` with
/// introspection, under stat prefix `sp`.
fn layout(sp: &str) -> Layout {
    let policy = fixtures::policy(json!({
        "providers": {
            "local": {"issuer": "L", "local_jwks": {"inline_string": fixtures::jwks(None)}},
            "remote": {"issuer": "R", "remote_jwks": {"http_uri": {
                "uri": "https://idp.test/jwks", "cluster": "idp", "timeout": "1s"}}},
            "opaque": {"issuer": "O", "introspection": {
                "http_uri": {"uri": "https://idp.test/introspect", "cluster": "idp",
                             "timeout": "1s"},
                "client_id": "c", "client_secret": "s"}}
        }
    }));
    Layout::new(sp, &policy.providers)
}

fn index(l: &Layout, name: &str) -> usize {
    (0..).find(|i| l.provider_name(*i) == Some(name)).unwrap()
}

fn names(l: &Layout) -> Vec<&str> {
    l.metrics().iter().map(|m| m.name.as_str()).collect()
}

/// The pending counts as `(name, delta)`.
fn drained(c: &mut Counts) -> Vec<(String, i64)> {
    let metrics = c.layout().metrics().to_vec();
    c.drain()
        .map(|(slot, d)| (metrics[slot].name.clone(), d))
        .collect()
}

fn verified(provider: usize) -> Verified {
    Verified {
        provider,
        claims: Rc::new(fixtures::object(json!({}))),
        proof: None,
        jwt: None,
    }
}

fn decided<'a>(denied: Option<Reason>, provider: Option<usize>, v: &'a [Verified]) -> Decided<'a> {
    Decided {
        rule: Some(0),
        cors_preflight: false,
        denied,
        provider,
        kid: None,
        verified: v,
    }
}

#[test]
fn the_envoy_counters_come_first_with_jwt_authn_names() {
    let l = layout("");
    assert_eq!(
        names(&l)[..7],
        [
            "jwt_authn.allowed",
            "jwt_authn.denied",
            "jwt_authn.cors_preflight_bypassed",
            "jwt_authn.jwks_fetch_success",
            "jwt_authn.jwks_fetch_failed",
            "jwt_authn.jwt_cache_hit",
            "jwt_authn.jwt_cache_miss",
        ]
    );
    assert_eq!(names(&layout("ingress"))[0], "jwt_authn.ingress.allowed");
}

#[test]
fn every_reason_has_a_filter_wide_and_a_per_provider_counter() {
    let l = layout("sp");
    let all = names(&l);
    for r in Reason::ALL {
        let wide = format!("jwt_guard.sp.denied.reason={}", r.name());
        let own = format!(
            "jwt_guard.sp.provider_denied.provider=local.reason={}",
            r.name()
        );
        assert!(all.contains(&wide.as_str()), "{wide}");
        assert!(all.contains(&own.as_str()), "{own}");
    }
    assert!(all.contains(&"jwt_guard.sp.callouts_in_flight"));
}

#[test]
fn key_and_introspection_metrics_exist_only_for_providers_that_have_them() {
    let l = layout("");
    let all = names(&l);
    assert!(all.contains(&"jwt_guard.jwks_fetch_success.provider=remote"));
    assert!(all.contains(&"jwt_guard.jwks_keys_skipped.provider=remote"));
    assert!(!all
        .iter()
        .any(|n| n.contains("jwks_") && n.ends_with("=local")));
    assert!(all.contains(&"jwt_guard.introspection_cache_miss.provider=opaque"));
    assert!(!all
        .iter()
        .any(|n| n.contains("introspection_cache") && !n.contains("opaque")));
    let per_provider = 1 + Reason::ALL.len();
    let expected = 7 + Reason::ALL.len() + 1 + 3 * per_provider + 4 + 2;
    assert_eq!(all.len(), expected);
    let gauges: Vec<_> = l
        .metrics()
        .iter()
        .filter(|m| m.kind == Kind::Gauge)
        .collect();
    assert_eq!(gauges.len(), 1);
}

#[test]
fn names_are_distinct_and_labels_sit_at_the_end() {
    let l = layout("");
    let mut all = names(&l);
    for n in &all {
        // Once a segment is a label, every later one is.
        let segments: Vec<&str> = n.split('.').collect();
        let first = segments.iter().position(|s| s.contains('='));
        if let Some(first) = first {
            assert!(segments[first..].iter().all(|s| s.contains('=')), "{n}");
        }
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), l.metrics().len());
}

#[test]
fn an_allowed_request_counts_once_per_provider_that_let_it_through() {
    let l = layout("");
    let (local, remote) = (index(&l, "local"), index(&l, "remote"));
    let mut c = Counts::new(l);
    let v = [verified(local), verified(remote), verified(local)];
    c.decided(&decided(None, None, &v));
    assert_eq!(
        drained(&mut c),
        [
            ("jwt_authn.allowed".to_owned(), 1),
            ("jwt_guard.provider_allowed.provider=local".to_owned(), 1),
            ("jwt_guard.provider_allowed.provider=remote".to_owned(), 1),
        ]
    );
    assert!(c.drain().next().is_none(), "drained once");
}

#[test]
fn a_denial_counts_filter_wide_by_reason_and_at_the_provider_it_is_about() {
    let l = layout("");
    let remote = index(&l, "remote");
    let mut c = Counts::new(l);
    c.decided(&decided(Some(Reason::Expired), Some(remote), &[]));
    c.decided(&decided(Some(Reason::Issuer), None, &[]));
    assert_eq!(
        drained(&mut c),
        [
            ("jwt_authn.denied".to_owned(), 2),
            ("jwt_guard.denied.reason=expired".to_owned(), 1),
            (
                "jwt_guard.provider_denied.provider=remote.reason=expired".to_owned(),
                1
            ),
            ("jwt_guard.denied.reason=issuer".to_owned(), 1),
        ]
    );
}

#[test]
fn counts_add_up_per_slot_until_handed_over_in_the_order_first_moved() {
    let l = layout("");
    let mut c = Counts::new(l);
    c.token_cache(0, 1);
    c.token_cache(2, 0);
    c.token_cache(1, 0);
    c.decided(&decided(None, None, &[]));
    c.decided(&decided(None, None, &[]));
    assert_eq!(
        drained(&mut c),
        [
            ("jwt_authn.jwt_cache_miss".to_owned(), 1),
            ("jwt_authn.jwt_cache_hit".to_owned(), 3),
            ("jwt_authn.allowed".to_owned(), 2),
        ]
    );
    c.token_cache(1, 0);
    assert_eq!(drained(&mut c), [("jwt_authn.jwt_cache_hit".to_owned(), 1)]);
}

#[test]
fn a_cors_preflight_counts_as_bypassed_and_allowed_as_in_envoy() {
    let mut c = Counts::new(layout(""));
    let preflight = Decided {
        rule: None,
        cors_preflight: true,
        ..decided(None, None, &[])
    };
    c.decided(&preflight);
    assert_eq!(
        drained(&mut c),
        [
            ("jwt_authn.cors_preflight_bypassed".to_owned(), 1),
            ("jwt_authn.allowed".to_owned(), 1),
        ]
    );
}

#[test]
fn fetches_count_filter_wide_and_per_provider_and_local_providers_count_nothing() {
    let l = layout("");
    let (local, remote) = (index(&l, "local"), index(&l, "remote"));
    let mut c = Counts::new(l);
    c.keys(remote, KeyEvent::Fetched(1));
    c.keys(remote, KeyEvent::Failed(1));
    c.keys(remote, KeyEvent::Failed(0));
    c.keys(remote, KeyEvent::StaleServed);
    c.keys(remote, KeyEvent::Skipped(3));
    c.keys(remote, KeyEvent::Skipped(0));
    c.keys(local, KeyEvent::Fetched(1));
    assert_eq!(
        drained(&mut c),
        [
            ("jwt_authn.jwks_fetch_success".to_owned(), 1),
            ("jwt_guard.jwks_fetch_success.provider=remote".to_owned(), 1),
            ("jwt_authn.jwks_fetch_failed".to_owned(), 1),
            ("jwt_guard.jwks_fetch_failed.provider=remote".to_owned(), 1),
            ("jwt_guard.jwks_stale_served.provider=remote".to_owned(), 1),
            ("jwt_guard.jwks_keys_skipped.provider=remote".to_owned(), 3),
        ]
    );
}

#[test]
fn cache_lookups_count_hits_and_misses() {
    let l = layout("");
    let opaque = index(&l, "opaque");
    let mut c = Counts::new(l);
    c.token_cache(1, 1);
    c.introspection_cache(opaque, true);
    c.introspection_cache(opaque, false);
    assert_eq!(
        drained(&mut c),
        [
            ("jwt_authn.jwt_cache_hit".to_owned(), 1),
            ("jwt_authn.jwt_cache_miss".to_owned(), 1),
            (
                "jwt_guard.introspection_cache_hit.provider=opaque".to_owned(),
                1
            ),
            (
                "jwt_guard.introspection_cache_miss.provider=opaque".to_owned(),
                1
            ),
        ]
    );
}

#[test]
fn the_in_flight_gauge_moves_by_the_change_only() {
    let mut c = Counts::new(layout(""));
    c.in_flight(2);
    c.in_flight(2);
    assert_eq!(
        drained(&mut c),
        [("jwt_guard.callouts_in_flight".to_owned(), 2)]
    );
    c.in_flight(3);
    c.in_flight(0);
    assert_eq!(
        drained(&mut c),
        [("jwt_guard.callouts_in_flight".to_owned(), -2)]
    );
    // Up and back down between two hand-overs: nothing to hand over.
    c.in_flight(1);
    c.in_flight(0);
    assert_eq!(drained(&mut c), []);
}

#[test]
fn counts_without_a_layout_are_dropped() {
    let mut c = Counts::default();
    c.token_cache(1, 0);
    c.decided(&decided(None, None, &[]));
    assert!(c.drain().next().is_none());
}
