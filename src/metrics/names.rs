//! The regular form of what goes into a metric name: Envoy's stat prefix
//! rule, and provider names as label values the gateways' tag patterns can
//! cut out again.

/// `stat_prefix` as it prefixes a stat: empty, or the prefix with one
/// trailing dot, as `jwt_authn` joins it (`ingress` and `ingress.` both
/// give `ingress.`). Characters outside `[A-Za-z0-9_.-]` become `_`, so
/// the prefix never reads as a label.
pub fn stat_prefix(prefix: &str) -> String {
    let trimmed = prefix.strip_suffix('.').unwrap_or(prefix);
    if trimmed.is_empty() {
        return String::new();
    }
    let mut out: String = trimmed
        .chars()
        .map(|c| if c == '.' || label_char(c) { c } else { '_' })
        .collect();
    out.push('.');
    out
}

/// A provider name as a label value: characters outside `[A-Za-z0-9_-]`
/// (dots, `=`, spaces, non-ASCII) become `_`; an empty name is `_`.
pub fn provider_label(name: &str) -> String {
    if name.is_empty() {
        return "_".to_owned();
    }
    name.chars()
        .map(|c| if label_char(c) { c } else { '_' })
        .collect()
}

/// Labels for the providers in order. Two names that read the same once
/// sanitized (`a.b`, `a_b`) would share counters: the later one gets its
/// index appended (`a_b_1`), so every provider counts apart.
pub fn provider_labels<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for (i, name) in names.enumerate() {
        let mut label = provider_label(name);
        while labels.contains(&label) {
            label = format!("{label}_{i}");
        }
        labels.push(label);
    }
    labels
}

fn label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_stat_prefix_adds_nothing_and_one_trailing_dot_is_added() {
        assert_eq!(stat_prefix(""), "");
        assert_eq!(stat_prefix("."), "");
        assert_eq!(stat_prefix("ingress"), "ingress.");
        assert_eq!(stat_prefix("ingress."), "ingress.");
        assert_eq!(stat_prefix("a.b"), "a.b.");
    }

    #[test]
    fn label_breaking_characters_in_a_stat_prefix_become_underscores() {
        assert_eq!(stat_prefix("x=1 y"), "x_1_y.");
    }

    #[test]
    fn provider_names_keep_letters_digits_dash_underscore_only() {
        assert_eq!(provider_label("orders-prod_2"), "orders-prod_2");
        assert_eq!(provider_label("a.b=c d/é"), "a_b_c_d__");
        assert_eq!(provider_label(""), "_");
    }

    #[test]
    fn names_that_sanitize_alike_get_the_index_appended() {
        let labels = provider_labels(["a.b", "a_b", "c"].into_iter());
        assert_eq!(labels, ["a_b", "a_b_1", "c"]);
    }
}
