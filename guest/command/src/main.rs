//! `sfn-start` as a WASI command component: the same flags, output and exit statuses as the
//! native `sfn-start` (both come from `sfn-cli`), for `wasmtime run -S http` and any other
//! runtime that runs WASI 0.2 commands.
//!
//! There is no outbound policy here: the runtime decides what the program may reach.

#[cfg(target_family = "wasm")]
mod wasi;

#[cfg(target_family = "wasm")]
fn main() {
    wasi::main()
}

/// Natively there is no WASI transport to run on.
#[cfg(not(target_family = "wasm"))]
fn main() -> std::process::ExitCode {
    eprintln!("sfn-start-command is a WASI program: build it with --target wasm32-wasip2");
    std::process::ExitCode::from(sfn_cli::FAILED)
}
