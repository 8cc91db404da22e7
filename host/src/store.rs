//! A call's store: the WASI and HTTP contexts the component sees, the outbound hook, and
//! the limits that bound its memory and instances.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::config::HostConfig;
use crate::outbound::Outbound;

/// A store's state: the runtime's WASI context (environment, clock) and HTTP context, the
/// limits, and the outbound hook (the runtime's policy, and a call's refusal to explain).
pub(crate) struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) outbound: Outbound,
    pub(crate) limits: Limits,
}

impl State {
    pub(crate) fn new(config: &HostConfig, outbound: Outbound) -> Self {
        let mut wasi = WasiCtxBuilder::new();
        wasi.envs(&config.env)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if let Some(time) = config.wall_clock {
            wasi.wall_clock(FixedClock(time));
        }
        Self {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            outbound,
            limits: Limits {
                store: StoreLimitsBuilder::new()
                    .memory_size(config.memory_limit)
                    .instances(16)
                    .build(),
                memory_limit: config.memory_limit,
                largest_memory: 0,
                reached_limit: false,
            },
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// The store's limits, recording the largest linear memory they have allowed and whether
/// they refused one past [`HostConfig::memory_limit`].
pub(crate) struct Limits {
    store: StoreLimits,
    memory_limit: usize,
    pub(crate) largest_memory: usize,
    /// A memory was refused growth past the limit: a trap that follows is most likely the
    /// guest's failed allocation, and says so.
    pub(crate) reached_limit: bool,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.store.memory_growing(current, desired, maximum)?;
        if allowed {
            self.largest_memory = self.largest_memory.max(desired);
        } else if desired > self.memory_limit {
            self.reached_limit = true;
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.store.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.store.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.store.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.store.instances()
    }

    fn tables(&self) -> usize {
        self.store.tables()
    }

    fn memories(&self) -> usize {
        self.store.memories()
    }
}

/// A wall clock stopped at one instant.
struct FixedClock(SystemTime);

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        self.0.duration_since(UNIX_EPOCH).unwrap_or_default()
    }
}
