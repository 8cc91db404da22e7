//! Builds the guest components for `wasm32-wasip2` and hands them to the library and the
//! tests, so that one `cargo build`/`cargo test` builds everything.
//!
//! The nested cargo gets a target directory of its own: sharing the outer one deadlocks on
//! its lock. The same pattern as wasmtime's `test-programs/artifacts`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The command (run by `wasmtime run`; the tests find it through `SFN_COMMAND_WASM`) and the
/// plugin (embedded in the host). Built one after the other, not together: together, cargo
/// would unify the guest's features and give the command the plugin's exports. The plugin
/// comes last because the command's build also writes the guest's cdylib, without exports,
/// to the same path.
const BUILDS: [(&str, &str); 2] = [
    ("sfn-start-command", "sfn-start.wasm"),
    ("sfn-start-execution", "sfn_start_execution.wasm"),
];

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .expect("host/ sits in the workspace")
        .to_path_buf();
    for path in [
        "guest/src",
        "guest/Cargo.toml",
        "cli/src",
        "cli/Cargo.toml",
        "command/src",
        "command/Cargo.toml",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    let target_dir = root.join("target").join("guest");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    for (package, artifact) in BUILDS {
        build(&root, &target_dir, package);
        let built = target_dir
            .join("wasm32-wasip2")
            .join("guest")
            .join(artifact);
        std::fs::copy(&built, out.join(artifact)).expect("copying a built component");
    }
    println!(
        "cargo:rustc-env=SFN_COMMAND_WASM={}",
        out.join(BUILDS[0].1).display()
    );
}

fn build(root: &Path, target_dir: &Path, package: &str) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--package",
            package,
            "--target",
            "wasm32-wasip2",
            "--profile",
            "guest",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        // These describe the outer (native) build and must not leak into the wasm one;
        // clippy's wrapper would also turn the guest build into a lint run.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .status()
        .expect("running cargo for the guest");
    assert!(
        status.success(),
        "building {package} failed; is the target installed? (rustup target add wasm32-wasip2)"
    );
}
