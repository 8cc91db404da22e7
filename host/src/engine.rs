//! The one engine configuration: epoch interruption for the call deadline, and where
//! instances get their memory. Code compiled by one engine loads only into an engine
//! configured the same way, which the compiled-code cache's key accounts for.

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::config::{HostConfig, Instances, KEPT_INSTANCES, POOLED_CALLS};

/// How much of a slot's dirtied memory stays resident for the next call; beyond it (a call
/// with a large input, say) pages are given back, so that a busy runtime holds at most this
/// much per slot it has used.
const KEEP_RESIDENT: usize = 1 << 20;

/// An engine for `config`.
pub(crate) fn new(config: &HostConfig) -> wasmtime::Result<Engine> {
    let mut engine = Config::new();
    // Epoch ticks drive the call deadline (see `epoch`).
    engine.epoch_interruption(true);
    if config.instances == Instances::Pooled {
        engine.allocation_strategy(pool());
    }
    Engine::new(&engine)
}

/// Slots for [`POOLED_CALLS`] calls, reserved once: a call's instance is made in a slot
/// another call left, instead of mapped and unmapped.
fn pool() -> InstanceAllocationStrategy {
    // A component holds a few core instances (the module, WASI adapter shims), each with
    // at most a memory and a table; the store's limits cap them at 16 per call.
    const PER_CALL: u32 = 16;
    let mut pool = PoolingAllocationConfig::default();
    let slots = POOLED_CALLS + KEPT_INSTANCES;
    pool.total_component_instances(slots)
        .total_core_instances(slots * PER_CALL)
        .total_memories(slots * 2)
        .total_tables(slots * 2)
        // A slot is reset by copying back only the pages the last call dirtied (Linux's
        // PAGEMAP_SCAN where the kernel has it), so the next call takes no page faults.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT);
    // Each slot keeps its default size (address space only): the store's limiter caps
    // memory per call with `HostConfig::memory_limit`, which `with_config` may raise.
    InstanceAllocationStrategy::Pooling(pool)
}
