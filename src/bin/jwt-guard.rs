//! The `jwt-guard` command (`jwt_guard::cli`). Built for the host only: in
//! the wasm build, which compiles every binary too, it is an empty main.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    // Lossy, not `env::args`, which panics on an argument that is not UTF-8.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = jwt_guard::cli::run(
        &args,
        &mut std::io::stdin(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::exit(code);
}

#[cfg(target_arch = "wasm32")]
fn main() {}
