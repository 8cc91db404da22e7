//! Builds the guest components for `wasm32-wasip2` in one nested cargo invocation and
//! hands them to the library and the tests as named constants (`components.rs` in
//! `OUT_DIR`), so that one `cargo build`/`cargo test` builds everything. The pattern of
//! wasmtime's `crates/test-programs/artifacts/build.rs`.
//!
//! - The nested cargo has a target directory of its own, `guest/` inside the outer one:
//!   sharing the outer one itself deadlocks on its lock.
//! - The components build together: no guest crate changes its exports by feature, so
//!   cargo's feature unification cannot give one the other's exports, and each artifact has
//!   its own file name.
//! - Each component then carries its package's name, version, description, licence and
//!   source in the standard metadata sections (`wasm-tools metadata show` reads them). The
//!   stamp rewrites the file cargo wrote; applied again it changes nothing.
//! - Cargo reruns this script when a file listed in the artifacts' dep-info changes (every
//!   source file of every guest crate), or a manifest, the lock file or the WIT.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One component: its package and folder (from the workspace root), the file cargo
/// writes, and the constant naming its path.
struct Artifact {
    package: &'static str,
    folder: &'static str,
    file: &'static str,
    constant: &'static str,
    doc: &'static str,
}

const PLUGIN: Artifact = Artifact {
    package: "sfn-start-execution",
    folder: "guest/plugin",
    file: "sfn_start_execution.wasm",
    constant: "PLUGIN_WASM",
    doc: "The plugin component (`sfn:action` exports), built from `guest/plugin`.",
};

const COMMAND: Artifact = Artifact {
    package: "sfn-start-command",
    folder: "guest/command",
    file: "sfn-start-wasi.wasm",
    constant: "COMMAND_WASM",
    doc: "The command component (`wasi:cli/run`, for `wasmtime run`), built from `guest/command`.",
};

const WEBHOOK: Artifact = Artifact {
    package: "sfn-webhook",
    folder: "examples/webhook",
    file: "sfn_webhook.wasm",
    constant: "WEBHOOK_WASM",
    doc: "The example webhook (imports `sfn:action/start-execution`, for `wac plug`), built from `examples/webhook`.",
};

const PROFILE: &str = "guest";
const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.parent().expect("host/ sits in the workspace");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let target_dir = target_dir(&out).join("guest");
    let built = target_dir.join(TARGET).join(PROFILE);

    build(
        root,
        &target_dir,
        &[PLUGIN.package, COMMAND.package, WEBHOOK.package],
    );

    let mut constants = String::new();
    for artifact in [&PLUGIN, &COMMAND, &WEBHOOK] {
        let manifest = root.join(artifact.folder).join("Cargo.toml");
        stamp(&built.join(artifact.file), artifact.package, &manifest);
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
        "/// The plugin component's bytes: what [`Runtime::new`] runs.\n\
         pub static COMPONENT: &[u8] = include_bytes!({plugin:?});"
    )
    .unwrap();
    std::fs::write(out.join("components.rs"), constants).expect("writing components.rs");

    for path in ["wit", "Cargo.lock", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    let folders = [
        "guest/core",
        "guest/cli",
        PLUGIN.folder,
        COMMAND.folder,
        WEBHOOK.folder,
    ];
    for folder in folders {
        let manifest = root.join(folder).join("Cargo.toml");
        println!("cargo:rerun-if-changed={}", manifest.display());
    }
}

/// The outer build's target directory, wherever `CARGO_TARGET_DIR` or `--target-dir` put
/// it: `OUT_DIR` is `<target dir>[/<triple>]/<profile>/build/<package>-<hash>/out`.
fn target_dir(out: &Path) -> PathBuf {
    let profile_dir = out
        .ancestors()
        .nth(3)
        .expect("OUT_DIR lies under cargo's target dir");
    let above = profile_dir
        .parent()
        .expect("a profile's folder has a parent");
    let triple = env::var("TARGET").expect("set by cargo");
    match above.file_name() {
        Some(name) if name == triple.as_str() => above.parent().unwrap_or(above).to_path_buf(),
        _ => above.to_path_buf(),
    }
}

fn build(root: &Path, target_dir: &Path, packages: &[&str]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--target", TARGET, "--profile", PROFILE])
        .env("CARGO_TARGET_DIR", target_dir)
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

/// Writes the package's metadata into the component at `path`, in place. The workspace's
/// version, licence and repository are this package's too.
fn stamp(path: &Path, package: &str, manifest: &Path) {
    use wasm_metadata::{AddMetadata, AddMetadataField, Description, Licenses, Source, Version};

    let env = |name: &str| env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"));
    let mut metadata = AddMetadata::default();
    metadata.name = AddMetadataField::Set(package.to_string());
    metadata.version = AddMetadataField::Set(Version::new(env("CARGO_PKG_VERSION")));
    metadata.description = AddMetadataField::Set(Description::new(description(manifest)));
    let licenses = Licenses::new(&env("CARGO_PKG_LICENSE")).expect("an SPDX licence");
    metadata.licenses = AddMetadataField::Set(licenses);
    let source = Source::new(&env("CARGO_PKG_REPOSITORY")).expect("a repository URL");
    metadata.source = AddMetadataField::Set(source);

    let wasm = std::fs::read(path).expect("reading a built component");
    let stamped = metadata
        .to_wasm(&wasm)
        .expect("adding metadata to a component");
    // Unchanged bytes are not written again, so the file's time stays cargo's.
    if stamped != wasm {
        std::fs::write(path, stamped).expect("writing a stamped component");
    }
}

/// The `description` of a package's manifest: one line, `description = "..."`.
fn description(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).expect("reading a guest manifest");
    text.lines()
        .find_map(|line| line.strip_prefix("description = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{} has no one-line description", manifest.display()))
        .to_string()
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
