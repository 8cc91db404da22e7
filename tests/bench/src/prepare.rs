//! Figures 3 and 4: validate + sign without sending, the component's `Runtime::prepare`
//! against `sfn_core::prepare` called natively: the same code compiled for the host
//! instead of for wasm. Figure 3 runs each call in a fresh instance (`reuse_instances`
//! off), then in the instance the last call left (the library's default).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use sfn_host::{ClientOptions, HostConfig, Runtime, StartExecutionConfig};

use crate::fixtures::{credentials, small_request};
use crate::table::median;

/// Time of one call, each way: the median over batches of the mean within a batch.
pub struct Prepare {
    pub calls: u32,
    pub component: Duration,
    pub native: Duration,
}

/// The small request, each call in a fresh instance: `calls` measured calls each way after
/// a tenth as many to warm up.
pub fn small(calls: u32, cache_dir: &Path) -> Result<Prepare, String> {
    let mut fresh = library(cache_dir);
    fresh.reuse_instances = false;
    compare(&small_request(), fresh, calls, calls / 10)
}

/// The same, each call in the instance the last one left.
pub fn small_kept(calls: u32, cache_dir: &Path) -> Result<Prepare, String> {
    compare(&small_request(), library(cache_dir), calls, calls / 10)
}

/// An input of exactly 262,144 bytes, the service's limit: a JSON string literal.
pub fn large(calls: u32, cache_dir: &Path) -> Result<Prepare, String> {
    let input = format!("\"{}\"", "x".repeat(262_144 - 2));
    assert_eq!(input.len(), 262_144, "the input is the service's maximum");
    let config = StartExecutionConfig {
        input: Some(input),
        ..small_request()
    };
    compare(&config, library(cache_dir), calls, 2)
}

/// The library's defaults, the component's code from `cache_dir` (compiled there by the
/// first runtime, before any timing).
fn library(cache_dir: &Path) -> HostConfig {
    let mut host = HostConfig::default();
    host.cache_dir = Some(cache_dir.to_path_buf());
    host
}

fn compare(
    config: &StartExecutionConfig,
    host: HostConfig,
    calls: u32,
    warm_up: u32,
) -> Result<Prepare, String> {
    let options = ClientOptions {
        credentials: Some(credentials()),
        ..ClientOptions::default()
    };
    let runtime = Runtime::new(host).map_err(|e| format!("loading the component: {e}"))?;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting a tokio runtime: {e}"))?;
    let component = || {
        let prepared = tokio.block_on(runtime.prepare(config, &options));
        let signed = prepared.map_err(|e| format!("host: {e}"))?;
        signed.map(drop).map_err(|e| format!("component: {e:?}"))
    };
    let native = || {
        let signed = sfn_core::prepare(config, &options, &|_| None, SystemTime::now());
        signed.map(drop).map_err(|e| format!("native: {e:?}"))
    };
    for _ in 0..warm_up {
        component()?;
        native()?;
    }
    // The two alternate batch by batch, so that a noisy moment on this shared machine
    // lands on both, and the median leaves it out.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..BATCHES {
        ours.push(batch_mean(&component, calls / BATCHES)?);
        theirs.push(batch_mean(&native, calls / BATCHES)?);
    }
    Ok(Prepare {
        calls,
        component: median(ours),
        native: median(theirs),
    })
}

/// Batches per figure: `calls` are split among them.
pub const BATCHES: u32 = 10;

/// The mean time of `call` over `calls` calls.
fn batch_mean(call: &impl Fn() -> Result<(), String>, calls: u32) -> Result<Duration, String> {
    let started = Instant::now();
    for _ in 0..calls {
        black_box(call()?);
    }
    Ok(started.elapsed() / calls.max(1))
}
