//! The decision log: one line per denied request, at debug level (the host
//! drops it below its level), and one per allowed request where a caller
//! asks for those too ([`Verbosity::All`], at trace).
//! A line names the rule, the provider, the reason and the token's `kid`,
//! never the token, a claim value or a secret: those are not in
//! [`Decided`] to begin with, and the `kid` (the one piece of token text,
//! chosen by whoever sent the token) is cut short and stripped of anything
//! that could forge another line or field.

use crate::trace::Decided;
use std::fmt::Write;

/// Which decisions are logged. The module logs denials: it cannot ask
/// every host for its level (ngx_wasm_module's `proxy_get_log_level` does
/// not match the ABI), and a line per allowed request is not worth its
/// cost on the request path when nobody reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// None.
    #[default]
    Off,
    /// Denied requests, at debug.
    Denied,
    /// Every decided request: denials at debug, the others at trace.
    All,
}

impl Verbosity {
    /// Whether this decision is logged.
    pub fn logs(self, d: &Decided<'_>) -> bool {
        match d.denied {
            Some(_) => self >= Verbosity::Denied,
            None => self == Verbosity::All,
        }
    }
}

/// Longest `kid` shown; a longer one ends in `...`.
const KID_MAX: usize = 64;

/// The line for `d`. `cors`: the request was a CORS preflight let through.
/// `provider` names a provider by index.
pub fn line<'a>(
    d: &Decided<'_>,
    cors: bool,
    provider: impl Fn(usize) -> Option<&'a str>,
) -> String {
    let mut out = String::with_capacity(96);
    let verdict = if d.denied.is_some() {
        "denied"
    } else {
        "allowed"
    };
    let _ = write!(out, "jwt-guard: {verdict} rule=");
    match d.rule {
        Some(i) => {
            let _ = write!(out, "rules[{i}]");
        }
        None => out.push('-'),
    }
    let Some(reason) = d.denied else {
        if cors {
            out.push_str(" cors_preflight");
        }
        out.push_str(" providers=");
        let mut any = false;
        for (i, v) in d.verified.iter().enumerate() {
            let seen = d.verified.get(..i).unwrap_or_default();
            if seen.iter().any(|s| s.provider == v.provider) {
                continue;
            }
            if any {
                out.push(',');
            }
            out.push_str(provider(v.provider).unwrap_or("?"));
            any = true;
        }
        if !any {
            out.push('-');
        }
        return out;
    };
    out.push_str(" provider=");
    out.push_str(d.provider.and_then(&provider).unwrap_or("-"));
    let _ = write!(out, " reason={} kid=", reason.name());
    match d.kid {
        Some(kid) => push_kid(&mut out, kid),
        None => out.push('-'),
    }
    out
}

/// A `kid` as shown: printable ASCII other than space, quote and backslash
/// kept, anything else as `?`, at most [`KID_MAX`] characters.
fn push_kid(out: &mut String, kid: &str) {
    for (i, c) in kid.chars().enumerate() {
        if i == KID_MAX {
            out.push_str("...");
            return;
        }
        let shown = c.is_ascii_graphic() && c != '"' && c != '\\';
        out.push(if shown { c } else { '?' });
    }
    if kid.is_empty() {
        out.push_str("\"\"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::Verified;
    use crate::fixtures;
    use crate::outcome::Reason;
    use serde_json::json;
    use std::rc::Rc;

    fn name(i: usize) -> Option<&'static str> {
        ["orders", "billing"].get(i).copied()
    }

    fn verified(provider: usize) -> Verified {
        Verified {
            provider,
            claims: Rc::new(fixtures::object(json!({"sub": "alice"}))),
            proof: None,
            jwt: None,
        }
    }

    fn denied(kid: Option<&str>) -> Decided<'_> {
        Decided {
            rule: Some(1),
            denied: Some(Reason::Expired),
            provider: Some(0),
            kid,
            verified: &[],
        }
    }

    #[test]
    fn a_denial_names_rule_provider_reason_and_kid() {
        let l = line(&denied(Some("k1")), false, name);
        assert_eq!(
            l,
            "jwt-guard: denied rule=rules[1] provider=orders reason=expired kid=k1"
        );
    }

    #[test]
    fn what_a_denial_does_not_reach_reads_as_a_dash() {
        let d = Decided {
            rule: None,
            denied: Some(Reason::Fault),
            provider: None,
            kid: None,
            verified: &[],
        };
        assert_eq!(
            line(&d, false, name),
            "jwt-guard: denied rule=- provider=- reason=fault kid=-"
        );
    }

    #[test]
    fn an_allowed_request_names_each_provider_once_and_no_claim() {
        let v = [verified(0), verified(1), verified(0)];
        let d = Decided {
            rule: Some(0),
            denied: None,
            provider: None,
            kid: None,
            verified: &v,
        };
        let l = line(&d, false, name);
        assert_eq!(
            l,
            "jwt-guard: allowed rule=rules[0] providers=orders,billing"
        );
        assert!(!l.contains("alice"));
    }

    #[test]
    fn a_cors_preflight_and_a_request_no_rule_covers_read_apart() {
        let d = Decided {
            rule: None,
            denied: None,
            provider: None,
            kid: None,
            verified: &[],
        };
        assert_eq!(
            line(&d, true, name),
            "jwt-guard: allowed rule=- cors_preflight providers=-"
        );
        assert_eq!(
            line(&d, false, name),
            "jwt-guard: allowed rule=- providers=-"
        );
    }

    #[test]
    fn a_kid_cannot_forge_a_line_or_a_field_and_is_cut_short() {
        let l = line(&denied(Some("a b\nreason=ok\"\\é")), false, name);
        assert!(l.ends_with("kid=a?b?reason=ok???"), "{l}");
        let long = "x".repeat(100);
        let l = line(&denied(Some(&long)), false, name);
        assert!(l.ends_with(&format!("kid={}...", "x".repeat(64))), "{l}");
        assert!(line(&denied(Some("")), false, name).ends_with("kid=\"\""));
    }

    #[test]
    fn denied_logs_denials_only_and_all_logs_everything() {
        let allowed = Decided {
            rule: None,
            denied: None,
            provider: None,
            kid: None,
            verified: &[],
        };
        assert!(!Verbosity::Off.logs(&denied(None)));
        assert!(Verbosity::Denied.logs(&denied(None)));
        assert!(!Verbosity::Denied.logs(&allowed));
        assert!(Verbosity::All.logs(&allowed));
    }
}
