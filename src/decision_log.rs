//! The decision log: one line per denied request, at debug level (the host
//! drops it below its level). A line names the rule, the provider, the
//! reason and the token's `kid`, never the token, a claim value or a
//! secret: those are not in [`Decided`] to begin with, and the `kid` (the
//! one piece of token text, chosen by whoever sent the token) is cut short
//! and stripped of anything that could forge another line or field.
//!
//! Allowed requests are not logged: the module cannot ask every host for
//! its level (ngx_wasm_module's `proxy_get_log_level` does not match the
//! ABI), and a line per allowed request is not worth its cost on the
//! request path when nobody reads it.

use crate::trace::Decided;

/// Whether denials are logged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    #[default]
    Off,
    /// Denied requests, at debug.
    Denied,
}

/// Longest `kid` shown; a longer one ends in `...`.
const KID_MAX: usize = 64;

/// The line for `d`, if `verbosity` logs it. `provider` names a provider
/// by index.
pub fn line<'a>(
    verbosity: Verbosity,
    d: &Decided<'_>,
    provider: impl Fn(usize) -> Option<&'a str>,
) -> Option<String> {
    let reason = d.denied.filter(|_| verbosity == Verbosity::Denied)?;
    // Built with pushes, not `write!`: every refused request pays for it.
    let mut out = String::with_capacity(96);
    out.push_str("jwt-guard: denied rule=");
    match d.rule {
        Some(i) => {
            out.push_str("rules[");
            push_decimal(&mut out, i);
            out.push(']');
        }
        None => out.push('-'),
    }
    out.push_str(" provider=");
    out.push_str(d.provider.and_then(&provider).unwrap_or("-"));
    out.push_str(" reason=");
    out.push_str(reason.name());
    out.push_str(" kid=");
    match d.kid {
        Some(kid) => push_kid(&mut out, kid),
        None => out.push('-'),
    }
    Some(out)
}

/// `n` in decimal.
fn push_decimal(out: &mut String, n: usize) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    let digit = u32::try_from(n % 10).unwrap_or(0);
    out.push(char::from_digit(digit, 10).unwrap_or('0'));
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
    use crate::outcome::Reason;

    fn name(i: usize) -> Option<&'static str> {
        ["orders", "billing"].get(i).copied()
    }

    fn denied(kid: Option<&str>) -> Decided<'_> {
        Decided {
            rule: Some(1),
            cors_preflight: false,
            denied: Some(Reason::Expired),
            provider: Some(0),
            kid,
            verified: &[],
        }
    }

    fn logged(d: &Decided<'_>) -> String {
        line(Verbosity::Denied, d, name).unwrap_or_default()
    }

    #[test]
    fn a_denial_names_rule_provider_reason_and_kid() {
        assert_eq!(
            logged(&denied(Some("k1"))),
            "jwt-guard: denied rule=rules[1] provider=orders reason=expired kid=k1"
        );
    }

    #[test]
    fn what_a_denial_does_not_reach_reads_as_a_dash() {
        let d = Decided {
            rule: None,
            cors_preflight: false,
            denied: Some(Reason::Fault),
            provider: None,
            kid: None,
            verified: &[],
        };
        assert_eq!(
            logged(&d),
            "jwt-guard: denied rule=- provider=- reason=fault kid=-"
        );
    }

    #[test]
    fn a_kid_cannot_forge_a_line_or_a_field_and_is_cut_short() {
        let l = logged(&denied(Some("a b\nreason=ok\"\\é")));
        assert!(l.ends_with("kid=a?b?reason=ok???"), "{l}");
        let long = "x".repeat(100);
        let l = logged(&denied(Some(&long)));
        assert!(l.ends_with(&format!("kid={}...", "x".repeat(64))), "{l}");
        assert!(logged(&denied(Some(""))).ends_with("kid=\"\""));
    }

    #[test]
    fn rule_indexes_are_written_in_decimal() {
        for n in [0, 7, 10, 123, 1_000_007, usize::MAX] {
            let mut out = String::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn only_denials_are_logged_and_only_when_asked() {
        let allowed = Decided {
            rule: None,
            cors_preflight: false,
            denied: None,
            provider: None,
            kid: None,
            verified: &[],
        };
        assert_eq!(line(Verbosity::Off, &denied(None), name), None);
        assert!(line(Verbosity::Denied, &denied(None), name).is_some());
        assert_eq!(line(Verbosity::Denied, &allowed, name), None);
    }
}
