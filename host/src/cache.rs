//! Compiled code for component files (`Runtime::from_file`, `sfn-start --component`), made
//! once per content and kept under the user's cache directory:
//! `$XDG_CACHE_HOME/sfn-start/components/` (else `~/.cache/sfn-start/components/`), one
//! `<key>.cwasm` per component, where the key is a SHA-256 of the engine's compatibility
//! hash (wasmtime's version and every setting that shapes code) and the file's bytes.
//!
//! A missing, unreadable or read-only cache directory means compiling, never an error; a
//! file is written under a temporary name and renamed into place, so that a reader never
//! sees half of one.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::HostError;
use crate::runtime::{compile, precompiled};

/// The component from the cache, or compiled (and then cached).
pub(crate) fn load(engine: &Engine, wasm: &[u8]) -> Result<Component, HostError> {
    let Some(path) = dir().map(|dir| dir.join(format!("{}.cwasm", key(engine, wasm)))) else {
        return compile(engine, wasm);
    };
    if let Ok(code) = std::fs::read(&path)
        && let Ok(component) = precompiled(engine, &code)
    {
        return Ok(component);
    }
    let component = compile(engine, wasm)?;
    if let Ok(code) = component.serialize() {
        // Best effort: a cache that cannot be written only costs the next run a compile.
        let _ = write_atomically(&path, &code);
    }
    Ok(component)
}

/// The cache directory, if the environment names a home for it.
pub fn dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache")))?;
    Some(base.join("sfn-start").join("components"))
}

fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut digest = DigestHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut digest);
    digest.0.update(wasm);
    digest
        .0
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Feeds `Hash` output into a SHA-256 digest.
struct DigestHasher(Sha256);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Unused: the digest, not a `u64`, is the result.
    fn finish(&self) -> u64 {
        0
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}
