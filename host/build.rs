//! Builds the guest component for `wasm32-wasip2` and hands it to the library, so that one
//! `cargo build`/`cargo test` builds everything.
//!
//! The nested cargo gets a target directory of its own: sharing the outer one deadlocks on
//! its lock. The same pattern as wasmtime's `test-programs/artifacts`.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const GUEST: &str = "sfn-start-execution";
const ARTIFACT: &str = "sfn_start_execution.wasm";

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .expect("host/ sits in the workspace")
        .to_path_buf();
    for path in [
        "guest/src",
        "guest/Cargo.toml",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    let target_dir = root.join("target").join("guest");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--package",
            GUEST,
            "--target",
            "wasm32-wasip2",
            "--profile",
            "guest",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
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
        "building the guest failed; is the target installed? (rustup target add wasm32-wasip2)"
    );
    let built = target_dir
        .join("wasm32-wasip2")
        .join("guest")
        .join(ARTIFACT);
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join(ARTIFACT);
    std::fs::copy(&built, &out).expect("copying the guest component");
}
