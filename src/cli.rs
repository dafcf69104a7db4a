//! The `jwt-guard` command (native only): `check` compiles configurations
//! as the module does, `explain` runs a request through the module's own
//! decision engine and prints every step, `schema` prints the JSON Schema,
//! `token` decodes a token without verifying it. The binary
//! (`src/bin/jwt-guard.rs`) only calls [`run`].

mod check;
mod conditions;
mod explain;
mod fetch;
mod offline;
mod report;
mod source;
mod time;
mod token;
mod yaml;

use std::io::{Read, Write};

const SCHEMA: &str = include_str!("../schema/jwt-guard.schema.json");

const USAGE: &str = "\
usage:
  jwt-guard check FILE...
  jwt-guard explain CONFIG [--method M] [--path P] [-H 'name: value']...
                    [--now TIME] [--jwks PROVIDER=FILE]... [--introspection PROVIDER=FILE]...
                    [--fetch] [--show-claims] [--select N] [--json]
  jwt-guard schema
  jwt-guard token TOKEN|-

CONFIG and FILE: a jwt-guard configuration (JSON or YAML), an Envoy wasm
filter or bootstrap, an Istio WasmPlugin, or a Kong declarative config.
TIME: RFC 3339 (2026-12-04T10:00:00Z) or seconds since the epoch; default now.
Exit status: 0 done (check: no errors), 1 check found errors or the input is
bad, 2 usage.
";

/// Runs the command line `args` (without the program name); the exit status.
pub fn run(args: &[String], stdin: &mut dyn Read, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let result = match args.split_first() {
        Some((cmd, rest)) => match cmd.as_str() {
            "check" if !rest.is_empty() && !rest.iter().any(|a| a.starts_with('-')) => {
                check::run(rest, out).map_err(|e| Failure::Input(e.to_string()))
            }
            "explain" => explain_command(rest, out),
            "schema" if rest.is_empty() => write(out, SCHEMA),
            "token" => token_command(rest, stdin, out),
            "help" | "--help" | "-h" => write(out, USAGE),
            "version" | "--version" => {
                write(out, concat!("jwt-guard ", env!("CARGO_PKG_VERSION"), "\n"))
            }
            _ => Err(Failure::Usage(format!(
                "unknown command or arguments: {}",
                args.join(" ")
            ))),
        },
        None => Err(Failure::Usage("no command given".to_owned())),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(why)) => {
            let _ = write!(err, "jwt-guard: {why}\n\n{USAGE}");
            2
        }
        Err(Failure::Input(why)) => {
            let _ = writeln!(err, "jwt-guard: {why}");
            1
        }
    }
}

enum Failure {
    /// The command line is wrong.
    Usage(String),
    /// What it names cannot be read or used.
    Input(String),
}

fn write(out: &mut dyn Write, text: &str) -> Result<i32, Failure> {
    out.write_all(text.as_bytes())
        .map_err(|e| Failure::Input(e.to_string()))?;
    Ok(0)
}

fn token_command(
    args: &[String],
    stdin: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<i32, Failure> {
    let [arg] = args else {
        return Err(Failure::Usage(
            "token takes one token (or - to read it from stdin)".to_owned(),
        ));
    };
    let mut input = arg.clone();
    if arg == "-" {
        input.clear();
        stdin
            .read_to_string(&mut input)
            .map_err(|e| Failure::Input(e.to_string()))?;
    }
    let text = token::decode(&input).map_err(Failure::Input)?;
    write(out, &text)
}

/// `provider=FILE`.
fn pair(flag: &str, value: &str) -> Result<(String, String), Failure> {
    match value.split_once('=') {
        Some((p, f)) if !p.is_empty() && !f.is_empty() => Ok((p.to_owned(), f.to_owned())),
        _ => Err(Failure::Usage(format!(
            "{flag} takes PROVIDER=FILE, not {value:?}"
        ))),
    }
}

fn explain_command(args: &[String], out: &mut dyn Write) -> Result<i32, Failure> {
    let mut req = explain::Request {
        method: "GET".to_owned(),
        path: "/".to_owned(),
        ..explain::Request::default()
    };
    let (mut json, mut now, mut config) = (false, None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| Failure::Usage(format!("{flag} needs a value")))
        };
        match arg.as_str() {
            "--method" | "-X" => req.method = value(arg)?,
            "--path" => req.path = value(arg)?,
            "-H" | "--header" => {
                let h = value(arg)?;
                let Some((name, v)) = h.split_once(':').filter(|(n, _)| !n.trim().is_empty())
                else {
                    return Err(Failure::Usage(format!("-H takes 'name: value', not {h:?}")));
                };
                req.headers.push((name.to_owned(), v.to_owned()));
            }
            "--now" => now = Some(time::parse(&value(arg)?).map_err(Failure::Usage)?),
            "--jwks" => req.jwks.push(pair(arg, &value(arg)?)?),
            "--introspection" => req.introspection.push(pair(arg, &value(arg)?)?),
            "--select" => {
                let n = value(arg)?;
                let n = n.parse::<usize>().ok().filter(|n| *n > 0);
                req.select =
                    Some(n.ok_or_else(|| {
                        Failure::Usage("--select takes a number from 1".to_owned())
                    })?);
            }
            "--fetch" => req.fetch = true,
            "--show-claims" => req.show_claims = true,
            "--json" => json = true,
            a if a.starts_with('-') => return Err(Failure::Usage(format!("unknown option {a}"))),
            a if config.is_none() => config = Some(a.to_owned()),
            a => return Err(Failure::Usage(format!("unexpected argument {a}"))),
        }
    }
    req.config = config.ok_or_else(|| Failure::Usage("explain needs a CONFIG file".to_owned()))?;
    req.now = match now {
        Some(n) => n,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| Failure::Input(format!("the system clock: {e}")))?
            .as_secs(),
    };
    let explained = explain::run(&req).map_err(Failure::Input)?;
    let text = if json {
        let mut s = serde_json::to_string_pretty(&report::json(&explained))
            .map_err(|e| Failure::Input(e.to_string()))?;
        s.push('\n');
        s
    } else {
        report::text(&explained)
    };
    write(out, &text)
}

#[cfg(test)]
mod tests;
