//! Loading a component: the engine, its code (compiled, or from the cache), the linker with
//! only what the component may import, and the pre-instantiated component that every call
//! instantiates.

use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use crate::HostError;
use crate::bindings::PluginPre;
use crate::cache::{self, CodeCache, Entry};
use crate::config::{HostConfig, KEPT_INSTANCES};
use crate::epoch::EpochTicker;
use crate::store::State;
use crate::warm::Budget;

/// What every configuration of one loaded component shares.
pub(crate) struct Loaded {
    pub(crate) engine: Engine,
    pub(crate) pre: PluginPre<State>,
    /// Shared by the kept instances of every runtime of this component.
    pub(crate) budget: Arc<Budget>,
    _ticker: EpochTicker,
}

/// `wasm` compiled (or its code from `config`'s cache), linked and pre-instantiated.
pub(crate) fn load(wasm: &[u8], config: &HostConfig) -> Result<Loaded, HostError> {
    let engine = crate::engine::new(config).map_err(failed("configuring the engine"))?;
    let component = match &config.cache_dir {
        Some(dir) => cached(&engine, wasm, &CodeCache::new(dir.clone()))?,
        None => compile(&engine, wasm)?,
    };
    let mut linker = Linker::<State>::new(&engine);
    link_wasi(&mut linker).map_err(failed("linking WASI"))?;
    crate::outbound::add_to_linker(&mut linker).map_err(failed("linking WASI HTTP"))?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(failed("linking the component"))?;
    let pre = PluginPre::new(pre).map_err(failed("finding the component's exports"))?;
    Ok(Loaded {
        _ticker: EpochTicker::start(engine.clone()),
        engine,
        pre,
        budget: Budget::new(KEPT_INSTANCES as usize),
    })
}

/// The component from a trusted cache entry, else compiled and then cached. A problem
/// with the cache costs only a compile, and is said once, as a warning naming the path.
fn cached(engine: &Engine, wasm: &[u8], cache: &CodeCache) -> Result<Component, HostError> {
    let key = cache::key(engine.precompile_compatibility_hash(), wasm);
    let said = match cache.get(&key) {
        Entry::Trusted(path) => {
            // SAFETY: wasmtime runs compiled code as it is, so it must be wasmtime's own
            // output. A trusted entry lies in a folder that only this user can write, and is
            // this user's own file that nobody else may write: this library compiled it (or
            // the user put it there). wasmtime still checks the version and configuration
            // recorded in it and refuses a mismatch with an error, answered by compiling.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok(component),
                Err(e) => warned(format_args!("recompiling {}: {e:#}", path.display())),
            }
        }
        Entry::Untrusted(path, why) => warned(format_args!(
            "ignoring the compiled code at {}: {why}",
            path.display()
        )),
        Entry::Missing => false,
    };
    let component = compile(engine, wasm)?;
    let written = component
        .serialize()
        .map_err(std::io::Error::other)
        .and_then(|code| cache.put(&key, &code));
    if let Err(e) = written
        && !said
    {
        tracing::warn!(
            "could not keep the compiled component in {}: {e}",
            cache.dir().display()
        );
    }
    Ok(component)
}

/// Warns, and says so.
fn warned(message: std::fmt::Arguments<'_>) -> bool {
    tracing::warn!("{message}");
    true
}

fn compile(engine: &Engine, wasm: &[u8]) -> Result<Component, HostError> {
    Component::new(engine, wasm).map_err(failed("compiling the component"))
}

/// The WASI interfaces a component built by Rust's `wasm32-wasip2` target imports, and no
/// others: no filesystem and no sockets, so that a component cannot so much as name them.
/// A component that imports more fails to load with an error naming the first missing
/// import.
fn link_wasi(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::p2::bindings::{cli, random};
    use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
    // I/O, clocks, `random` and the standard streams: what `wasi:http/proxy` has.
    wasmtime_wasi::p2::add_to_linker_proxy_interfaces_async(linker)?;
    random::insecure_seed::add_to_linker::<State, WasiRandom>(linker, State::random)?;
    cli::environment::add_to_linker::<State, WasiCli>(linker, State::cli)?;
    cli::exit::add_to_linker::<State, WasiCli>(linker, State::cli)?;
    cli::terminal_input::add_to_linker::<State, WasiCli>(linker, State::cli)?;
    cli::terminal_output::add_to_linker::<State, WasiCli>(linker, State::cli)?;
    cli::terminal_stdin::add_to_linker::<State, WasiCli>(linker, State::cli)?;
    cli::terminal_stdout::add_to_linker::<State, WasiCli>(linker, State::cli)?;
    cli::terminal_stderr::add_to_linker::<State, WasiCli>(linker, State::cli)?;
    Ok(())
}

fn failed(step: &'static str) -> impl Fn(wasmtime::Error) -> HostError {
    move |e| HostError::Load(e.context(step))
}
