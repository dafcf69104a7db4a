//! `jwt-guard check FILE...`: compiles every configuration in the files as
//! the module would at `on_configure`, and prints each error (with the
//! JSON path the compiler names) and each warning.

use super::source;
use crate::config;
use std::io::Write;

/// What a check found.
#[derive(Debug, Default)]
pub struct Tally {
    pub configs: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// Checks every file; the exit status is 1 when anything is wrong.
pub fn run(files: &[String], out: &mut dyn Write) -> std::io::Result<i32> {
    let mut tally = Tally::default();
    for file in files {
        check_file(file, out, &mut tally)?;
    }
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    writeln!(
        out,
        "{}, {}, {}",
        plural(tally.configs, "configuration"),
        plural(tally.errors, "error"),
        plural(tally.warnings, "warning")
    )?;
    Ok(i32::from(tally.errors > 0))
}

fn check_file(file: &str, out: &mut dyn Write, tally: &mut Tally) -> std::io::Result<()> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            tally.errors = tally.errors.saturating_add(1);
            return writeln!(out, "{file}: error: cannot read: {e}");
        }
    };
    let found = match source::configs(&text) {
        Ok(f) => f,
        Err(e) => {
            tally.errors = tally.errors.saturating_add(1);
            return writeln!(out, "{file}: error: {e}");
        }
    };
    for f in found {
        tally.configs = tally.configs.saturating_add(1);
        let name = match f.place.as_str() {
            "" => file.to_owned(),
            place => format!("{file}: {place}"),
        };
        match config::compile_all(&f.text) {
            Ok(compiled) => {
                let policy = &compiled.policy;
                let count =
                    |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
                writeln!(
                    out,
                    "{name}: ok ({}, {})",
                    count(policy.providers.len(), "provider"),
                    count(policy.rules.len(), "rule")
                )?;
                for w in &compiled.warnings {
                    tally.warnings = tally.warnings.saturating_add(1);
                    writeln!(out, "  warning: {w}")?;
                }
            }
            Err(errors) => {
                tally.errors = tally.errors.saturating_add(errors.len());
                let n = errors.len();
                writeln!(out, "{name}: {n} error{}", if n == 1 { "" } else { "s" })?;
                for e in errors {
                    writeln!(out, "  error: {e}")?;
                }
            }
        }
    }
    Ok(())
}
