//! Builds both guest components for `wasm32-wasip2` in one nested cargo invocation and
//! hands them to the library and the tests as named constants (`components.rs` in
//! `OUT_DIR`), so that one `cargo build`/`cargo test` builds everything. The pattern of
//! wasmtime's `crates/test-programs/artifacts/build.rs`.
//!
//! - The nested cargo has a target directory of its own: sharing the outer one deadlocks on
//!   its lock.
//! - Both components build together: no guest crate changes its exports by feature, so
//!   cargo's feature unification cannot give one the other's exports, and each artifact has
//!   its own file name.
//! - Cargo reruns this script when a file listed in the artifacts' dep-info changes (every
//!   source file of every guest crate), or a manifest, the lock file or the WIT.
//! - The plugin is also precompiled here, with the library's own engine configuration
//!   (`src/engine.rs`, included below) for the baseline CPU of the target architecture, and
//!   embedded, so that the library loads it without compiling.

#[path = "src/engine.rs"]
mod engine;

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One component: its package, the file cargo writes, and the constant naming its path.
struct Artifact {
    package: &'static str,
    file: &'static str,
    constant: &'static str,
    doc: &'static str,
}

const PLUGIN: Artifact = Artifact {
    package: "sfn-start-execution",
    file: "sfn_start_execution.wasm",
    constant: "PLUGIN_WASM",
    doc: "The plugin component (`sfn:action` exports), built from `guest/plugin`.",
};

const COMMAND: Artifact = Artifact {
    package: "sfn-start-command",
    file: "sfn-start-wasi.wasm",
    constant: "COMMAND_WASM",
    doc: "The command component (`wasi:cli/run`, for `wasmtime run`), built from `guest/command`.",
};

const PROFILE: &str = "guest";
const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.parent().expect("host/ sits in the workspace");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let built = root.join("target").join("guest").join(TARGET).join(PROFILE);

    build(root, &[PLUGIN.package, COMMAND.package]);

    let mut constants = String::new();
    for artifact in [&PLUGIN, &COMMAND] {
        let copy = out.join(artifact.file);
        std::fs::copy(built.join(artifact.file), &copy).expect("copying a built component");
        let (constant, doc) = (artifact.constant, artifact.doc);
        writeln!(
            constants,
            "/// {doc}\npub const {constant}: &str = {copy:?};"
        )
        .unwrap();
        rerun_for_dep_info(&built.join(artifact.file).with_extension("d"));
    }
    let plugin = out.join(PLUGIN.file);
    writeln!(
        constants,
        "/// The plugin component's bytes: what the library runs unless told otherwise.\n\
         pub static COMPONENT: &[u8] = include_bytes!({plugin:?});"
    )
    .unwrap();
    let precompiled = out.join("sfn_start_execution.cwasm");
    precompile(&plugin, &precompiled);
    link_the_cli_position_dependent();
    let len = std::fs::metadata(&precompiled).expect("just written").len();
    writeln!(
        constants,
        "/// [`COMPONENT`] compiled by the build script with the library's engine\n\
         /// configuration for [`ENGINE_TARGET`] and this version of wasmtime: what\n\
         /// [`Runtime::new`] loads, and runs where it lies (see `in_place`).\n\
         pub static PRECOMPILED: &[u8] = &PRECOMPILED_PAGES.0;\n\
         /// Aligned to the largest page size of the architectures wasmtime runs on, so\n\
         /// that the code's text, which begins a page within the image, begins one here.\n\
         #[repr(C, align(65536))]\n\
         struct Pages<T>(T);\n\
         static PRECOMPILED_PAGES: Pages<[u8; {len}]> = Pages(*include_bytes!({precompiled:?}));"
    )
    .unwrap();
    std::fs::write(out.join("components.rs"), constants).expect("writing components.rs");

    for path in ["wit", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    for krate in ["core", "plugin", "command", "cli"] {
        let manifest = root.join("guest").join(krate).join("Cargo.toml");
        println!("cargo:rerun-if-changed={}", manifest.display());
    }
}

/// Links `sfn-start` as a position-dependent executable on Linux. As a PIE, its image
/// carries about 54,000 relocations that the dynamic loader applies at every start, writing
/// 856 KB of otherwise read-only pages; measured, about 1.2 ms of CPU and 200 page faults
/// of a cold start's 7 ms. Position-dependent, the linker resolves them, and what is not
/// read is never touched. The executable's own image then loads at a fixed address (its
/// libraries, heap, stacks and mappings are still randomised); the library, which
/// embedders link into their own programs, is unaffected.
fn link_the_cli_position_dependent() {
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=sfn-start=-no-pie");
    }
}

/// Compiles the plugin as the library would, for the target this build is for.
fn precompile(wasm: &Path, cwasm: &Path) {
    let target = env::var("TARGET").expect("set by cargo");
    println!("cargo:rustc-env=SFN_ENGINE_TARGET={target}");
    let config = engine::config(&target).expect("wasmtime supports the build's target");
    let engine = wasmtime::Engine::new(&config).expect("the engine configuration is valid");
    let wasm = std::fs::read(wasm).expect("reading the built plugin");
    let code = engine
        .precompile_component(&wasm)
        .expect("the plugin compiles");
    std::fs::write(cwasm, code).expect("writing the precompiled plugin");
}

fn build(root: &Path, packages: &[&str]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--target", TARGET, "--profile", PROFILE])
        .env("CARGO_TARGET_DIR", root.join("target").join("guest"))
        // These describe the outer (native) build and must not leak into the wasm one;
        // clippy's wrapper would also turn the guest build into a lint run.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER");
    for package in packages {
        command.args(["--package", package]);
    }
    let status = command.status().expect("running cargo for the guest");
    assert!(
        status.success(),
        "building {packages:?} failed; is the target installed? (rustup target add {TARGET})"
    );
}

/// Every file a dep-info file (`target: dep dep ...`, spaces escaped as `\ `) lists.
fn rerun_for_dep_info(path: &Path) {
    let text = std::fs::read_to_string(path).expect("cargo writes dep-info beside an artifact");
    let Some((_, deps)) = text.lines().next().and_then(|line| line.split_once(": ")) else {
        return;
    };
    let deps = deps.replace("\\ ", "\u{0}");
    for dep in deps.split_whitespace() {
        println!("cargo:rerun-if-changed={}", dep.replace('\u{0}', " "));
    }
}
