//! The one engine configuration. The build script precompiles the embedded plugin with it
//! (it includes this file) and the library loads with it: wasmtime accepts precompiled code
//! only from an engine of the same version configured the same way.

/// The engine for `target`, the triple the binary is built for. Naming the target, even
/// the host's own, makes Cranelift compile for the architecture's baseline CPU instead of
/// this machine's, so that code precompiled on the build machine runs on any machine of the
/// architecture.
pub fn config(target: &str) -> wasmtime::Result<wasmtime::Config> {
    let mut config = wasmtime::Config::new();
    // Epoch ticks drive the call deadline (see `runtime`).
    config.epoch_interruption(true);
    config.target(target)?;
    Ok(config)
}
