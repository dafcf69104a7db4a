use super::claim_checks::lifetime_ok;
use super::*;
use crate::extract::Extractor;
use crate::fixtures::{self, merged, CountingClock, NOW};
use crate::rules::Policy;
use serde_json::{json, Value};

/// An HS256 token under the fixture secret, `{"alg": "HS256"}` plus `header`.
fn token(header: Value, claims: Value) -> String {
    fixtures::hs256(header, claims)
}

/// One provider `p`: issuer "A", audience "api", the fixture key (no kid),
/// plus the provider fields in `extra`.
fn config(extra: Value) -> Policy {
    let p = json!({"issuer": "A", "audiences": ["api"],
                   "local_jwks": {"inline_string": fixtures::jwks(None)}});
    fixtures::policy(json!({"providers": {"p": merged(p, extra)}}))
}

/// `{"iss": "A", "aud": "api", "exp": NOW + 600, "auth_time": NOW - 60}`
/// plus `extra`.
fn claims(extra: Value) -> Value {
    merged(
        json!({"iss": "A", "aud": "api", "exp": NOW + 600, "auth_time": NOW - 60}),
        extra,
    )
}

/// Authenticates the request `headers` with the only provider of `c`:
/// named, or found by issuer under `allow_missing` (`Some(false)`) or
/// `allow_missing_or_failed` (`Some(true)`), at `clock`. The result, and the
/// tokens that verified.
fn run(
    c: &Policy,
    by_issuer: Option<bool>,
    headers: &mut Headers,
    clock: &dyn Clock,
) -> (Result<(), Stop>, Vec<Verified>) {
    let p = &c.providers[0];
    let mut extractor = Extractor::default();
    extractor.add_provider(&p.issuer, &p.locations, &[]);
    let mode = match by_issuer {
        Some(allow_failed) => Mode::ByIssuer { allow_failed },
        None => Mode::Provider {
            provider: p,
            audiences: None,
        },
    };
    let mut found = Found::default();
    let r = authenticate(
        &c.providers,
        &extractor,
        mode,
        headers,
        clock,
        &LocalKeysOnly,
        &mut found,
    );
    (r, found.verified)
}

/// `Authorization: Bearer <token>` on `/`.
fn bearer(token: &str) -> Headers {
    fixtures::headers(&[
        (":path", "/"),
        ("authorization", &format!("Bearer {token}")),
    ])
}

/// Authenticates `token` with the only provider of `c`, named or found
/// by issuer.
fn verify_with(c: &Policy, by_issuer: bool, token: &str, now: u64) -> Result<(), Status> {
    let mode = by_issuer.then_some(false);
    match run(c, mode, &mut bearer(token), &now).0 {
        Ok(()) => Ok(()),
        Err(Stop::Fail(status)) => Err(status),
        Err(other) => panic!("local keys and a clock: {other:?}"),
    }
}

fn verify(c: &Policy, token: &str) -> Result<(), Status> {
    verify_with(c, false, token, NOW)
}

#[test]
fn without_hardening_typ_crit_and_auth_time_are_ignored_like_envoy() {
    let c = config(json!({}));
    let t = token(
        json!({"typ": 5, "crit": ["exp"]}),
        claims(json!({"auth_time": "long ago"})),
    );
    assert_eq!(verify(&c, &t), Ok(()));
}

#[test]
fn allowed_algorithms_refuse_any_other_alg_even_with_a_valid_key() {
    let c = config(json!({"allowed_algorithms": ["RS256", "ES256"]}));
    let t = token(json!({}), claims(json!({})));
    assert_eq!(verify(&c, &t), Err(Status::JwtHeaderAlgNotAllowed));
    assert_eq!(
        verify_with(&c, true, &t, NOW),
        Err(Status::JwtHeaderAlgNotAllowed)
    );
    let c = config(json!({"allowed_algorithms": ["RS256", "HS256"]}));
    assert_eq!(verify(&c, &t), Ok(()));
}

#[test]
fn required_typ_ignores_case_and_an_application_prefix_on_either_side() {
    let c = config(json!({"required_typ": "application/AT+JWT"}));
    for typ in [
        "at+jwt",
        "AT+jwt",
        "application/at+jwt",
        "Application/At+Jwt",
    ] {
        let t = token(json!({"typ": typ}), claims(json!({})));
        assert_eq!(verify(&c, &t), Ok(()), "{typ}");
    }
    for typ in [
        json!("JWT"),
        json!("at+jwt; v=1"),
        json!("text/at+jwt"),
        json!(null),
        json!(["at+jwt"]),
    ] {
        let t = token(json!({"typ": typ}), claims(json!({})));
        assert_eq!(
            verify(&c, &t),
            Err(Status::JwtHeaderTypNotRequired),
            "{typ}"
        );
    }
    let t = token(json!({}), claims(json!({})));
    assert_eq!(verify(&c, &t), Err(Status::JwtHeaderTypNotRequired));
}

#[test]
fn reject_unknown_crit_refuses_any_crit_member() {
    let c = config(json!({"reject_unknown_crit": true}));
    for crit in [json!(["b64"]), json!([]), json!(null)] {
        let t = token(json!({"crit": crit}), claims(json!({})));
        assert_eq!(
            verify(&c, &t),
            Err(Status::JwtHeaderCritUnsupported),
            "{crit}"
        );
    }
    assert_eq!(verify(&c, &token(json!({}), claims(json!({})))), Ok(()));
}

#[test]
fn required_claims_must_be_present_and_not_null_at_their_dotted_path() {
    let c = config(json!({"required_claims": ["jti", "org.id"]}));
    let ok = claims(json!({"jti": "j", "org": {"id": 0}}));
    assert_eq!(verify(&c, &token(json!({}), ok)), Ok(()));
    for bad in [
        json!({"org": {"id": 1}}),
        json!({"jti": "j", "org": {"id": null}}),
        json!({"jti": "j", "org": {}}),
        json!({"jti": "j", "org": "id"}),
        json!({"jti": "j", "org.id": 1}),
    ] {
        let t = token(json!({}), claims(bad.clone()));
        assert_eq!(
            verify(&c, &t),
            Err(Status::JwtPayloadRequiredClaimMissing),
            "{bad}"
        );
    }
}

#[test]
fn auth_time_must_be_a_number_no_older_than_max_auth_age_plus_skew() {
    let c = config(json!({"max_auth_age": "3600s", "clock_skew_seconds": 10}));
    let at = |auth_time: Value| token(json!({}), claims(json!({"auth_time": auth_time})));
    let edge = NOW - 3610;
    assert_eq!(verify(&c, &at(json!(edge))), Ok(()));
    assert_eq!(
        verify(&c, &at(json!(edge - 1))),
        Err(Status::JwtAuthTimeTooOld)
    );
    assert_eq!(
        verify(&c, &at(json!(edge as f64 - 0.5))),
        Err(Status::JwtAuthTimeTooOld)
    );
    assert_eq!(verify(&c, &at(json!(edge as f64 + 0.5))), Ok(()));
    assert_eq!(verify(&c, &at(json!(-1))), Err(Status::JwtAuthTimeTooOld));
    assert_eq!(verify(&c, &at(json!(u64::MAX))), Ok(()));
    for bad in [json!(null), json!("1700000000"), json!(true)] {
        assert_eq!(
            verify(&c, &at(bad.clone())),
            Err(Status::JwtPayloadAuthTimeMissing),
            "{bad}"
        );
    }
    let mut no_auth_time = claims(json!({}));
    no_auth_time.as_object_mut().unwrap().remove("auth_time");
    let t = token(json!({}), no_auth_time);
    assert_eq!(verify(&c, &t), Err(Status::JwtPayloadAuthTimeMissing));
}

#[test]
fn fractional_max_auth_age_is_exact() {
    let c = config(json!({"max_auth_age": "0.5s", "clock_skew_seconds": 1}));
    let at = |auth_time: Value| token(json!({}), claims(json!({"auth_time": auth_time})));
    assert_eq!(verify(&c, &at(json!(NOW as f64 - 1.5))), Ok(()));
    assert_eq!(
        verify(&c, &at(json!(NOW - 2))),
        Err(Status::JwtAuthTimeTooOld)
    );
}

#[test]
fn hardening_checks_run_in_the_contracts_order() {
    let c = config(json!({
        "allowed_algorithms": ["HS256"], "required_typ": "at+jwt",
        "reject_unknown_crit": true, "required_claims": ["jti"], "max_auth_age": "60s"
    }));
    let typ = json!({"typ": "at+jwt"});
    let expired = claims(json!({"exp": NOW - 3600}));
    let check = |header: Value, claims: Value| verify(&c, &token(header, claims));
    // Issuer first, then alg, typ, crit, all before time.
    assert_eq!(
        check(json!({"alg": "HS384"}), claims(json!({"iss": "B"}))),
        Err(Status::JwtUnknownIssuer)
    );
    assert_eq!(
        check(json!({"alg": "HS384", "crit": []}), expired.clone()),
        Err(Status::JwtHeaderAlgNotAllowed)
    );
    assert_eq!(
        check(json!({"crit": []}), expired.clone()),
        Err(Status::JwtHeaderTypNotRequired)
    );
    assert_eq!(
        check(json!({"typ": "at+jwt", "crit": []}), expired.clone()),
        Err(Status::JwtHeaderCritUnsupported)
    );
    assert_eq!(check(typ.clone(), expired), Err(Status::JwtExpired));
    // Audience before required claims, required claims before auth_time.
    let stale = claims(json!({"auth_time": NOW - 3600}));
    let mut wrong_aud = stale.clone();
    wrong_aud["aud"] = json!("other");
    assert_eq!(
        check(typ.clone(), wrong_aud),
        Err(Status::JwtAudienceNotAllowed)
    );
    assert_eq!(
        check(typ.clone(), stale.clone()),
        Err(Status::JwtPayloadRequiredClaimMissing)
    );
    let mut stale_with_jti = stale;
    stale_with_jti["jti"] = json!("j");
    assert_eq!(
        check(typ.clone(), stale_with_jti),
        Err(Status::JwtAuthTimeTooOld)
    );
    // auth_time before the signature.
    let mut forged = token(
        typ.clone(),
        claims(json!({"jti": "j", "auth_time": NOW - 3600})),
    );
    forged.push('A');
    assert_eq!(verify(&c, &forged), Err(Status::JwtAuthTimeTooOld));
    let mut forged = token(typ, claims(json!({"jti": "j"})));
    forged.push('A');
    assert_eq!(verify(&c, &forged), Err(Status::JwtVerificationFail));
}

#[test]
fn audiences_ignore_scheme_and_one_trailing_slash_but_not_case() {
    let a = Audiences::new(vec!["https://billing.example.com".into()]);
    for ok in [
        "https://billing.example.com/",
        "http://billing.example.com",
        "billing.example.com",
    ] {
        assert!(a.allows(&[ok.to_owned()]), "{ok}");
    }
    assert!(!a.allows(&["https://Billing.example.com".to_owned()]));
    assert!(!a.allows(&[]));
    assert!(Audiences::new(vec![]).allows(&[]));
}

#[test]
fn lifetime_bounds_exp_minus_now_and_requires_exp() {
    assert!(lifetime_ok(None, 0, 100));
    assert!(!lifetime_ok(Some(MaxLifetime::Unbounded), 0, 100));
    assert!(lifetime_ok(Some(MaxLifetime::Unbounded), 1, 100));
    let max = Some(MaxLifetime::Nanos(60_000_000_000));
    assert!(lifetime_ok(max, 159, 100));
    assert!(!lifetime_ok(max, 160, 100));
}

#[test]
fn the_clock_is_read_only_for_a_token_that_reaches_its_time_check() {
    let c = config(json!({}));
    let reads = |auth: Option<&str>| {
        let mut headers = fixtures::headers(&[(":path", "/")]);
        if let Some(a) = auth {
            headers.add("authorization", a.to_owned());
        }
        let clock = CountingClock(std::cell::Cell::new(0), Some(NOW));
        let (r, _) = run(&c, None, &mut headers, &clock);
        (r, clock.0.get())
    };
    assert_eq!(reads(None), (Err(Stop::Fail(Status::JwtMissed)), 0));
    assert_eq!(
        reads(Some("Bearer abc.def.ghi")),
        (Err(Stop::Fail(Status::JwtHeaderBadJson)), 0)
    );
    let good = format!("Bearer {}", token(json!({}), claims(json!({}))));
    assert_eq!(reads(Some(&good)), (Ok(()), 1));
}

#[test]
fn a_failed_clock_stops_authentication_instead_of_reading_time_zero() {
    let c = config(json!({}));
    // At time 0 this token would pass: it expired long after 1970.
    let expired = token(json!({}), claims(json!({"exp": NOW - 3600})));
    // Named, and found by issuer under allow_missing_or_failed (where a
    // failed token would pass without effect): both stop.
    for by_issuer in [None, Some(true)] {
        let mut headers = bearer(&expired);
        let clock = CountingClock(std::cell::Cell::new(0), None);
        let (r, verified) = run(&c, by_issuer, &mut headers, &clock);
        assert_eq!(r, Err(Stop::NoClock), "{by_issuer:?}");
        assert!(verified.is_empty());
        assert!(headers.get("authorization").is_some(), "nothing applied");
    }
}
