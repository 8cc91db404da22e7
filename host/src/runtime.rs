//! Engine, pre-instantiated component, and the stores that calls run in.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime::component::{Component, Instance, InstancePre, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::exports::{Exports, Function, Guest};
use crate::outbound::{Connections, Outbound, Timeouts};
use crate::policy::Policy;
use crate::shared_config::{self, CredentialSource, Settings};
use crate::warm::{Budget, Kept};
use crate::{
    ClientOptions, Error, Execution, FORWARDED_VARIABLES, Failure, FieldError, HostError, Outcome,
    SignedRequest, StartExecutionConfig,
};

type Result<T, E = HostError> = std::result::Result<T, E>;

/// How the host runs the component. `Debug` shows the names of the variables, never their
/// values (they hold the secret key).
#[derive(Clone)]
pub struct HostConfig {
    /// The environment the component sees (credentials, endpoint variables). Nothing else of
    /// the host's environment is visible to it.
    pub env: Vec<(String, String)>,
    /// The one custom endpoint the outbound policy allows besides Step Functions.
    pub allowed_endpoint: Option<String>,
    /// A fixed wall clock for the component (reproducible signatures); `None` is real time.
    pub wall_clock: Option<SystemTime>,
    /// Upper bound on one call, network, retries and backoff included. The component is
    /// given it (or the call's own `timeout-ms`, if shorter) and ends the call with an error
    /// that names it; should the component not return, the host stops it a moment later.
    pub timeout: Duration,
    /// Upper bounds on connecting and on waiting for response bytes (see [`Timeouts`]).
    pub io_timeouts: Timeouts,
    /// Upper bound on the component's linear memory.
    pub memory_limit: usize,
    /// Where instances get their memory. Read when the component is loaded; a runtime made
    /// by [`Runtime::with_config`] keeps the loaded one's.
    pub instances: Instances,
    /// Whether an instance whose call ended cleanly serves this runtime's next call (the
    /// default), instead of every call getting a fresh one. A kept instance has run only
    /// this runtime's calls, with its environment and policy, and holds no host resource
    /// between them; the component keeps no state between calls. Its linear memory is not
    /// cleared, though: a host that must not let one call's credentials lie in memory that
    /// the next call runs in (even freed, and unread) sets this to `false`, at about 50 µs
    /// a call. An instance that traps, is stopped, or grew its memory past
    /// [`KEPT_MEMORY`] is never kept.
    pub reuse_instances: bool,
    /// Where a call's credentials come from when it brings none.
    pub credentials: CredentialSource,
    /// Endpoint, attempts, FIPS and dual-stack for calls that do not set their own.
    pub settings: Settings,
}

/// How each call's instance gets its memory and tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Instances {
    /// From slots reserved once and reused, their memory reset in place: the fastest
    /// instantiation, for a runtime that makes many calls. At most [`POOLED_CALLS`] calls
    /// run at once; one more fails to instantiate until another ends.
    #[default]
    Pooled,
    /// Mapped for each call and unmapped after it: nothing reserved up front, for a process
    /// that makes one call (the `sfn-start` CLI).
    OnDemand,
}

/// How long past its timeout a call's component has to return its own timeout error before
/// the host stops it.
const REPORTING_GRACE: Duration = Duration::from_millis(250);

/// Calls in flight at once with [`Instances::Pooled`]. Slots reserve address space, not
/// memory.
pub const POOLED_CALLS: u32 = 256;

/// Instances kept between calls at most, over all the runtimes of one loaded component
/// (see [`HostConfig::reuse_instances`]). With [`Instances::Pooled`] they have slots of
/// their own, beyond [`POOLED_CALLS`].
pub const KEPT_INSTANCES: u32 = 32;

/// The largest linear memory an instance may have grown to and still be kept. A kept
/// instance holds its memory: a small call's is 1.1 MiB; one with a 262,144-byte input
/// grows it to 2.4 MiB, and is not kept (such a call takes milliseconds, and
/// instantiating tens of microseconds).
pub const KEPT_MEMORY: usize = 2 << 20;

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            env: Vec::new(),
            allowed_endpoint: None,
            wall_clock: None,
            timeout: Duration::from_secs(120),
            io_timeouts: Timeouts::default(),
            memory_limit: 64 << 20,
            instances: Instances::default(),
            reuse_instances: true,
            credentials: CredentialSource::default(),
            settings: Settings::default(),
        }
    }
}

impl fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("HostConfig")
            .field("env", &names)
            .field("allowed_endpoint", &self.allowed_endpoint)
            .field("wall_clock", &self.wall_clock)
            .field("timeout", &self.timeout)
            .field("io_timeouts", &self.io_timeouts)
            .field("memory_limit", &self.memory_limit)
            .field("instances", &self.instances)
            .field("reuse_instances", &self.reuse_instances)
            .field("credentials", &self.credentials)
            .field("settings", &self.settings)
            .finish()
    }
}

impl HostConfig {
    /// Forwards [`FORWARDED_VARIABLES`] from this process and allows the endpoint they name.
    pub fn from_process_env() -> Self {
        let env: Vec<(String, String)> = FORWARDED_VARIABLES
            .iter()
            .filter_map(|&k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let named = sfn_core::endpoint::custom_from(None, &lookup);
        let mut config = Self {
            env,
            ..Self::default()
        };
        if let Some((url, _)) = named {
            config.allow_endpoint(&url);
        }
        config
    }

    /// What the AWS SDKs and CLI would use: [`HostConfig::from_process_env`], plus credentials
    /// from the default chain and the settings of `profile` (else `AWS_PROFILE`, else
    /// `default`) and their variables; an endpoint from them is allowed out. `region` serves
    /// STS and SSO when neither the environment nor the profile names one.
    pub async fn from_aws_config(profile: Option<&str>, region: Option<&str>) -> Result<Self> {
        let (chain, settings) = shared_config::load(profile, region)
            .await
            .map_err(|why| HostError::Config(format!("reading the AWS configuration: {why}")))?;
        let mut config = Self::from_process_env();
        if let Some(url) = &settings.endpoint_url {
            config.allow_endpoint(url);
        }
        config.credentials = CredentialSource::Chain(chain);
        config.settings = settings;
        Ok(config)
    }

    /// Allows `url` through the outbound policy if it is an `http(s)` URL with a host. Any
    /// other value allows nothing: the component then refuses it as an `endpoint_url` field
    /// error before any I/O, which says more than a host error would.
    pub fn allow_endpoint(&mut self, url: &str) {
        if Policy::new(Some(url)).is_ok() {
            self.allowed_endpoint = Some(url.to_string());
        }
    }
}

/// A loaded, pre-instantiated component. Cheap to call many times; safe to share. Its calls
/// share one pool of HTTP connections.
pub struct Runtime {
    /// First, as fields drop in order: a kept instance runs the loaded code, which must
    /// outlive it (its in-place claim in particular, see `Code`).
    kept: Kept<Warm>,
    loaded: Arc<Loaded>,
    connections: Connections,
    policy: Arc<Policy>,
    config: HostConfig,
}

/// What every configuration of one loaded component shares.
struct Loaded {
    engine: Engine,
    pre: InstancePre<State>,
    exports: Exports,
    /// Shared by the kept instances of every runtime of this component.
    budget: Arc<Budget>,
    compiled_at_load: Option<String>,
    _ticker: EpochTicker,
    /// Last, as fields drop in order: after `pre`, which holds the component too.
    _code: Code,
}

/// A loaded component and, if it runs the embedded code in place, the claim to do so,
/// which must outlive it: it drops after the component, as fields drop in order.
struct Code {
    component: Component,
    _in_place: Option<crate::in_place::Claim>,
}

impl Code {
    fn in_place(component: Component, claim: crate::in_place::Claim) -> Self {
        Self {
            component,
            _in_place: Some(claim),
        }
    }
}

impl From<Component> for Code {
    fn from(component: Component) -> Self {
        Self {
            component,
            _in_place: None,
        }
    }
}

/// Epoch ticks drive the deadline: the component yields at every tick, so a call that
/// spins instead of waiting on I/O still ends at `timeout`.
const TICK: Duration = Duration::from_millis(10);

impl Runtime {
    /// Loads the embedded component, precompiled at build time: nothing is compiled. Should
    /// the engine ever refuse that code, it compiles the embedded `.wasm` instead and says so
    /// through [`Runtime::compiled_at_load`] and a `tracing` warning.
    pub fn new(config: HostConfig) -> Result<Self> {
        Self::embedded(crate::PRECOMPILED, crate::COMPONENT, config)
    }

    /// `code` run in place if it can be, else from a copy, else `wasm` compiled, with the
    /// reason kept.
    fn embedded(code: &'static [u8], wasm: &[u8], config: HostConfig) -> Result<Self> {
        // Unless another runtime runs the code in place: then no engine is made for it.
        if let Some(claim) = crate::in_place::Claim::take() {
            let in_place = engine(&config, true)?;
            // SAFETY: `code` is wasmtime's own output: the build script's, made with this
            // same wasmtime (a build-dependency pinned to the same version) and embedded in
            // this binary, or in a test another engine's. wasmtime still checks the version
            // and configuration recorded in it, and a mismatch is refused with an error.
            if let Ok(component) = unsafe { crate::in_place::load(&in_place, code, &claim) } {
                return Self::link(in_place, Code::in_place(component, claim), None, config);
            }
        }
        // Another runtime runs the code in place, or its text does not begin a page of
        // this machine's size: a copy's does.
        let engine = engine(&config, false)?;
        match precompiled(&engine, code) {
            Ok(component) => Self::link(engine, Code::from(component), None, config),
            Err(refusal) => {
                let why = format!(
                    "the precompiled component was refused ({refusal:#}); compiled the embedded one instead"
                );
                tracing::warn!("{why}");
                let component = compile(&engine, wasm)?;
                Self::link(engine, Code::from(component), Some(why), config)
            }
        }
    }

    /// Loads a component from a `.wasm` file, compiling it once per content: the compiled
    /// code is cached under the user's cache directory (see [`crate::cache`]).
    pub fn from_file(path: &Path, config: HostConfig) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let engine = engine(&config, false)?;
        let component = crate::cache::load(&engine, &bytes)?;
        Self::link(engine, Code::from(component), None, config)
    }

    /// Compiles, links and pre-instantiates a component.
    pub fn from_bytes(bytes: &[u8], config: HostConfig) -> Result<Self> {
        let engine = engine(&config, false)?;
        let component = compile(&engine, bytes)?;
        Self::link(engine, Code::from(component), None, config)
    }

    /// Why the embedded precompiled code was not used, if it was not.
    pub fn compiled_at_load(&self) -> Option<&str> {
        self.loaded.compiled_at_load.as_deref()
    }

    fn link(
        engine: Engine,
        code: Code,
        compiled_at_load: Option<String>,
        config: HostConfig,
    ) -> Result<Self> {
        let mut linker = Linker::<State>::new(&engine);
        link_wasi(&mut linker).map_err(load("linking WASI"))?;
        crate::outbound::add_to_linker(&mut linker).map_err(load("linking WASI HTTP"))?;
        let pre = linker
            .instantiate_pre(&code.component)
            .map_err(load("linking the component"))?;
        let exports = Exports::find(&code.component)
            .map_err(|why| HostError::Load(wasmtime::Error::msg(why)))?;
        let ticker = EpochTicker::start(engine.clone());
        let loaded = Arc::new(Loaded {
            engine,
            pre,
            exports,
            budget: Budget::new(KEPT_INSTANCES as usize),
            compiled_at_load,
            _ticker: ticker,
            _code: code,
        });
        let connections = Connections::new(config.io_timeouts).map_err(HostError::Config)?;
        Self::configured(loaded, connections, config)
    }

    /// The same compiled component under another configuration (other credentials, clock
    /// or allowed endpoint): no recompilation, no relinking, and the same connection pool
    /// unless the I/O timeouts differ. The new policy alone decides what its calls reach,
    /// pooled connections included.
    pub fn with_config(&self, config: HostConfig) -> Result<Self> {
        let connections = if config.io_timeouts == self.connections.timeouts() {
            self.connections.clone()
        } else {
            Connections::new(config.io_timeouts).map_err(HostError::Config)?
        };
        Self::configured(self.loaded.clone(), connections, config)
    }

    fn configured(
        loaded: Arc<Loaded>,
        connections: Connections,
        config: HostConfig,
    ) -> Result<Self> {
        let policy = Policy::new(config.allowed_endpoint.as_deref()).map_err(HostError::Config)?;
        Ok(Self {
            kept: Kept::new(loaded.budget.clone()),
            loaded,
            connections,
            policy: Arc::new(policy),
            config,
        })
    }

    /// Checks the arguments without any I/O.
    pub async fn validate(
        &self,
        config: &StartExecutionConfig,
    ) -> Result<Result<(), Vec<FieldError>>> {
        self.bounded(self.in_instance(async |store, guest| {
            guest.call(store, Function::Validate, (config,)).await
        }))
        .await
    }

    /// Validates and signs the request without sending it.
    pub async fn prepare(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>> {
        self.sign(options, async |store, guest, options| {
            guest
                .call(store, Function::Prepare, (config, &options))
                .await
        })
        .await
    }

    /// As [`Runtime::prepare`], for StartSyncExecution.
    pub async fn prepare_sync(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>> {
        self.sign(options, async |store, guest, options| {
            guest
                .call(store, Function::PrepareSync, (config, &options))
                .await
        })
        .await
    }

    /// Runs one export that signs without sending, with the host's settings and credentials
    /// completed, within [`HostConfig::timeout`].
    async fn sign(
        &self,
        options: &ClientOptions,
        export: impl AsyncFnOnce(
            &mut Store<State>,
            &Guest<'_>,
            ClientOptions,
        ) -> wasmtime::Result<std::result::Result<SignedRequest, Error>>,
    ) -> Result<Result<SignedRequest, Error>> {
        self.bounded(async {
            let options = match self.completed(options).await {
                Ok(options) => options,
                Err(error) => return Ok(Err(error)),
            };
            self.in_instance(async |store, guest| export(store, guest, options).await)
                .await
        })
        .await
    }

    /// Validates, names, signs and sends the request, with retries, within
    /// [`HostConfig::timeout`].
    pub async fn start(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Execution, Failure>> {
        let limit = self.config.timeout;
        self.call(
            options,
            limit,
            Duration::ZERO,
            async |store, guest, options| {
                guest.call(store, Function::Start, (config, &options)).await
            },
        )
        .await
    }

    /// Runs an EXPRESS state machine with StartSyncExecution and returns how the execution
    /// ended. An express execution may run five minutes, so the call is given
    /// [`HostConfig::timeout`] or five minutes and a quarter, whichever is longer.
    pub async fn start_sync(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Outcome, Failure>> {
        let limit = self.sync_limit();
        self.call(
            options,
            limit,
            Duration::ZERO,
            async |store, guest, options| {
                guest
                    .call(store, Function::StartSync, (config, &options))
                    .await
            },
        )
        .await
    }

    /// DescribeExecution, with retries, within [`HostConfig::timeout`].
    pub async fn describe(
        &self,
        execution_arn: &str,
        options: &ClientOptions,
    ) -> Result<Result<Outcome, Failure>> {
        let limit = self.config.timeout;
        self.call(
            options,
            limit,
            Duration::ZERO,
            async |store, guest, options| {
                let params = (execution_arn, &options);
                guest.call(store, Function::Describe, params).await
            },
        )
        .await
    }

    /// Polls DescribeExecution until the execution ends or `max_wait` passes; each poll is
    /// bounded by [`HostConfig::timeout`].
    pub async fn wait(
        &self,
        execution_arn: &str,
        options: &ClientOptions,
        max_wait: Duration,
    ) -> Result<Result<Outcome, Failure>> {
        let limit = self.config.timeout;
        let max_wait_ms = u64::try_from(max_wait.as_millis()).unwrap_or(u64::MAX);
        self.call(options, limit, max_wait, async |store, guest, options| {
            let params = (execution_arn, &options, max_wait_ms);
            guest.call(store, Function::Wait, params).await
        })
        .await
    }

    /// The longest a StartSyncExecution call may take: the execution, and connecting.
    fn sync_limit(&self) -> Duration {
        let sync = sfn_core::SYNC_ANSWER_WITHIN + self.config.io_timeouts.connect;
        self.config.timeout.max(sync)
    }

    /// Runs one export that sends requests: the host's settings and credentials completed,
    /// the component given `limit` (less what resolving credentials took) for each call or
    /// poll, and stopped if it has not returned `REPORTING_GRACE` after `limit` and `extra`.
    async fn call<T>(
        &self,
        options: &ClientOptions,
        limit: Duration,
        extra: Duration,
        export: impl AsyncFnOnce(
            &mut Store<State>,
            &Guest<'_>,
            ClientOptions,
        ) -> wasmtime::Result<std::result::Result<T, Failure>>,
    ) -> Result<std::result::Result<T, Failure>> {
        let began = std::time::Instant::now();
        let call = async {
            let options = match self.completed(options).await {
                // Resolving credentials (an STS call, say) used some of the time.
                Ok(options) => within_timeout(&options, limit, began.elapsed()),
                Err(error) => return Ok(Err(Failure::refused(error))),
            };
            self.in_instance(async |store, guest| {
                let outcome = export(store, guest, options).await?;
                let explain = |error| store.data().outbound.explain(error);
                Ok(outcome.map_err(|f| Failure {
                    error: explain(f.error),
                    ..f
                }))
            })
            .await
        };
        // The component ends the call at the timeout with its own error; the host's bound,
        // a moment later, only stops a component that does not.
        let bound = limit.saturating_add(extra).saturating_add(REPORTING_GRACE);
        Self::bounded_by(bound, call).await
    }

    /// The call's options, with the host's settings and credentials where it has none.
    async fn completed(&self, options: &ClientOptions) -> Result<ClientOptions, Error> {
        let settings = &self.config.settings;
        let credentials = match (&options.credentials, &self.config.credentials) {
            (Some(own), _) => Some(own.clone()),
            (None, CredentialSource::None) => None,
            (None, CredentialSource::Fixed(fixed)) => Some(fixed.clone()),
            (None, CredentialSource::Chain(chain)) => {
                let resolved = chain.credentials().await;
                Some(resolved.map_err(Error::MissingCredentials)?)
            }
        };
        Ok(ClientOptions {
            credentials,
            endpoint_url: options
                .endpoint_url
                .clone()
                .or(settings.endpoint_url.clone()),
            use_fips: options.use_fips || settings.use_fips,
            use_dual_stack: options.use_dual_stack || settings.use_dual_stack,
            max_attempts: options.max_attempts.or(settings.max_attempts),
            timeout_ms: options.timeout_ms,
        })
    }

    /// Runs `call` in a kept instance or a new one, and keeps the instance if the call
    /// ended cleanly. One that traps, or is stopped (this future dropped), is dropped.
    async fn in_instance<T>(
        &self,
        call: impl AsyncFnOnce(&mut Store<State>, &Guest<'_>) -> wasmtime::Result<T>,
    ) -> Result<T> {
        let mut warm = match self.kept.take() {
            Some(kept) => kept.for_next_call(self.outbound()),
            None => self.instantiate().await?,
        };
        let guest = self.loaded.exports.of(warm.instance);
        let result = trapped(call(&mut warm.store, &guest).await)?;
        if self.config.reuse_instances && warm.reusable() {
            self.kept.keep(warm);
        }
        Ok(result)
    }

    async fn instantiate(&self) -> Result<Warm> {
        let state = State::new(&self.config, self.outbound());
        let mut store = Store::new(&self.loaded.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let instance = self
            .loaded
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| HostError::Load(e.context("instantiating the component")))?;
        Ok(Warm { store, instance })
    }

    fn outbound(&self) -> Outbound {
        Outbound::new(self.policy.clone(), self.connections.clone())
    }

    /// The deadline covers instantiation too: a component's start-up runs guest code.
    async fn bounded<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        Self::bounded_by(self.config.timeout, call).await
    }

    async fn bounded_by<T>(limit: Duration, call: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(limit, call)
            .await
            .unwrap_or(Err(HostError::Timeout(limit)))
    }
}

/// The options with what is left of the host's `limit` after `spent`, when the call asked
/// for none or a longer one. Time spent well within the reporting grace is not
/// taken off: the component's error then names the timeout as asked, and still comes
/// before the host's bound.
fn within_timeout(options: &ClientOptions, limit: Duration, spent: Duration) -> ClientOptions {
    let spent = if spent < REPORTING_GRACE / 2 {
        Duration::ZERO
    } else {
        spent
    };
    let left = limit.saturating_sub(spent);
    let host = u64::try_from(left.as_millis()).unwrap_or(u64::MAX);
    let timeout_ms = options.timeout_ms.map_or(host, |asked| asked.min(host));
    ClientOptions {
        timeout_ms: Some(timeout_ms.max(1)),
        ..options.clone()
    }
}

/// An engine configured as the build script's (see `engine`), with `instances`: how
/// instances are allocated is not part of what precompiled code must match. `in_place`
/// engines run the embedded code where it lies, and compile nothing.
fn engine(config: &HostConfig, in_place: bool) -> Result<Engine> {
    let mut engine =
        crate::engine::config(crate::ENGINE_TARGET).map_err(load("configuring the engine"))?;
    if config.instances == Instances::Pooled {
        engine.allocation_strategy(pool());
    }
    if in_place {
        crate::in_place::allow(&mut engine);
    }
    Engine::new(&engine).map_err(load("configuring the engine"))
}

/// Slots for [`POOLED_CALLS`] calls, reserved once: a call's instance is made in a slot
/// another call left, instead of mapped and unmapped.
fn pool() -> wasmtime::InstanceAllocationStrategy {
    // A component holds a few core instances (the module, WASI adapter shims), each with
    // at most a memory and a table; the store's limits cap them at 16 per call.
    const PER_CALL: u32 = 16;
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    let slots = POOLED_CALLS + KEPT_INSTANCES;
    pool.total_component_instances(slots)
        .total_core_instances(slots * PER_CALL)
        .total_memories(slots * 2)
        .total_tables(slots * 2)
        // A slot is reset by copying back only the pages the last call dirtied, found with
        // Linux's PAGEMAP_SCAN (6.7 and later; elsewhere the pages are given back with
        // `madvise`). The pages stay mapped: the next call takes no page faults, and no
        // `madvise` makes every core flush its TLB. Measured per warm instantiate +
        // prepare: 124.6 µs with `madvise`, 83–97 µs this way.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT);
    // Each slot is left its default size (4 GiB, address space only): the store's limiter
    // caps memory per call with `HostConfig::memory_limit`, which `with_config` may raise,
    // while a slot sized from the loading configuration would silently cap it lower.
    wasmtime::InstanceAllocationStrategy::Pooling(pool)
}

/// How much of a slot's dirtied memory stays resident for the next call; beyond it (a call
/// with a large input, say) pages are given back, so that a busy runtime holds at most this
/// much per slot it has used.
const KEEP_RESIDENT: usize = 1 << 20;

/// The WASI interfaces a component built by Rust's `wasm32-wasip2` target imports, and no
/// others: no filesystem and no sockets, so that a component cannot so much as name them.
/// Leaving them out also spares a cold start linking about a hundred functions it never
/// calls. A component that imports more fails to load with an error naming the first
/// missing import.
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

fn load(step: &'static str) -> impl Fn(wasmtime::Error) -> HostError {
    move |e| HostError::Load(e.context(step))
}

pub(crate) fn compile(engine: &Engine, wasm: &[u8]) -> Result<Component> {
    Component::new(engine, wasm).map_err(load("compiling the component"))
}

/// Loads code compiled by `Engine::precompile_component`, from a copy.
pub(crate) fn precompiled(engine: &Engine, code: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime runs precompiled code as it is, so it must come from wasmtime's own
    // compiler and not from anyone who could write arbitrary machine code. The two callers
    // pass only such code: the bytes the build script made with `engine::config` and this
    // same wasmtime and embedded in this binary, or a file this library wrote to the
    // user's own cache after compiling a component itself, under a key that includes the
    // engine's compatibility hash. Either way wasmtime still checks the version and
    // configuration recorded in the code and refuses a mismatch with an error, which the
    // callers answer by compiling.
    unsafe { Component::deserialize(engine, code) }
}

fn trapped<T>(result: wasmtime::Result<T>) -> Result<T> {
    result.map_err(HostError::Trap)
}

/// A store with the component instantiated in it, between calls or in one.
struct Warm {
    store: Store<State>,
    instance: Instance,
}

impl Warm {
    /// Ready for another call of the runtime that kept it: a new deadline, and no
    /// refusal of the last call's to explain.
    fn for_next_call(mut self, outbound: Outbound) -> Self {
        self.store.data_mut().outbound = outbound;
        self.store.set_epoch_deadline(1);
        self
    }

    /// Whether the next call may run in it: the call left no host resource behind (a
    /// stream or a response would be the next call's to see), and the memory it holds is
    /// small.
    fn reusable(&self) -> bool {
        let state = self.store.data();
        state.table.is_empty() && state.limits.largest_memory <= KEPT_MEMORY
    }
}

/// A store's state: the runtime's WASI context (environment, clock) and HTTP context, the
/// limits, and the outbound hook (the runtime's policy, and a call's refusal to explain).
struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    outbound: Outbound,
    limits: Limits,
}

impl State {
    fn new(config: &HostConfig, outbound: Outbound) -> Self {
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
                largest_memory: 0,
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

/// The store's limits, recording the largest linear memory they have allowed.
struct Limits {
    store: StoreLimits,
    largest_memory: usize,
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

/// Advances the engine's epoch every [`TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Acquire) {
                // Parked rather than asleep, so that `drop` wakes it at once: a one-shot
                // CLI must not wait out a tick on its way out.
                std::thread::park_timeout(TICK);
                engine.increment_epoch();
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Credentials;

    fn validate_with(runtime: &Runtime) -> Result<(), Vec<FieldError>> {
        let validated = current_thread().block_on(runtime.validate(&kit_config(None)));
        validated.unwrap()
    }

    fn current_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn kit_credentials() -> Credentials {
        Credentials {
            access_key_id: sfn_test_kit::AKID.into(),
            secret_access_key: sfn_test_kit::SECRET.into(),
            session_token: None,
        }
    }

    fn kit_config(input: Option<String>) -> StartExecutionConfig {
        StartExecutionConfig {
            state_machine_arn: sfn_test_kit::ARN.into(),
            input,
            ..StartExecutionConfig::default()
        }
    }

    #[test]
    fn the_embedded_component_loads_precompiled_with_either_allocator() {
        for instances in [Instances::Pooled, Instances::OnDemand] {
            let config = HostConfig {
                instances,
                ..HostConfig::default()
            };
            let runtime = Runtime::new(config).unwrap();
            assert_eq!(runtime.compiled_at_load(), None, "{instances:?}");
            assert_eq!(validate_with(&runtime), Ok(()), "{instances:?}");
        }
    }

    #[test]
    fn refused_precompiled_code_falls_back_to_compiling_the_wasm() {
        // Code from an engine configured otherwise (no epoch interruption): wasmtime's
        // compatibility check refuses it, as it would code from another wasmtime.
        let other = Engine::new(&wasmtime::Config::new()).unwrap();
        let foreign = other.precompile_component(crate::COMPONENT).unwrap();
        let foreign = foreign.leak();
        let runtime = Runtime::embedded(foreign, crate::COMPONENT, HostConfig::default()).unwrap();
        let why = runtime
            .compiled_at_load()
            .expect("the fallback is reported");
        assert!(
            why.starts_with("the precompiled component was refused (")
                && why.ends_with("); compiled the embedded one instead"),
            "{why}"
        );
        assert_eq!(validate_with(&runtime), Ok(()));
        let reconfigured = runtime.with_config(HostConfig::default()).unwrap();
        assert_eq!(reconfigured.compiled_at_load(), Some(why));
    }

    /// The right to run the embedded code in place, once other tests' runtimes, which hold
    /// it for a moment at a time, let go of it.
    fn in_place_claim() -> crate::in_place::Claim {
        loop {
            match crate::in_place::Claim::take() {
                Some(claim) => break claim,
                None => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    #[test]
    fn the_embedded_code_runs_in_place_on_an_engine_that_cannot_compile() {
        let in_place = engine(&HostConfig::default(), true).unwrap();
        let claim = in_place_claim();
        // SAFETY: the build script's code, as `Runtime::new` loads it.
        let loaded = unsafe { crate::in_place::load(&in_place, crate::PRECOMPILED, &claim) };
        // Dropped before the claim, as `Code` drops them.
        drop(loaded.expect("the embedded code loads in place"));
        drop(claim);
        let compiling = Component::new(&in_place, crate::COMPONENT).err();
        let refusal = format!("{:#}", compiling.expect("refused"));
        assert!(refusal.contains("compiler"), "{refusal}");
    }

    #[test]
    fn code_that_cannot_run_in_place_runs_from_a_copy() {
        // The embedded image 8 bytes past a page boundary: aligned enough to parse, but
        // its text does not begin a page, so it cannot be made executable where it lies.
        let code = crate::PRECOMPILED;
        let buffer = vec![0u8; code.len() + 4096 + 8].leak();
        let start = (4096 + 8 - buffer.as_ptr().addr() % 4096) % 4096;
        let shifted = &mut buffer[start..start + code.len()];
        shifted.copy_from_slice(code);
        let in_place = engine(&HostConfig::default(), true).unwrap();
        let claim = in_place_claim();
        // SAFETY: the build script's code, as `Runtime::new` loads it.
        let refusal = unsafe { crate::in_place::load(&in_place, shifted, &claim) }.err();
        drop(claim);
        let refusal = format!("{:#}", refusal.expect("refused"));
        assert!(
            refusal.contains("does not begin a 4096-byte page"),
            "{refusal}"
        );
        let runtime = Runtime::embedded(shifted, crate::COMPONENT, HostConfig::default()).unwrap();
        assert_eq!(runtime.compiled_at_load(), None);
        assert_eq!(validate_with(&runtime), Ok(()));
    }

    #[test]
    fn a_dropped_runtime_leaves_the_code_to_the_others() {
        // One runs the embedded code in place, the others copies; wasmtime would panic on
        // a second load of the same pages, and a dropped runtime must not take them away.
        let kept = Runtime::new(HostConfig::default()).unwrap();
        for _ in 0..2 {
            let dropped = Runtime::new(HostConfig::default()).unwrap();
            assert_eq!(validate_with(&dropped), Ok(()));
        }
        assert_eq!(validate_with(&kept), Ok(()));
    }

    #[test]
    fn a_component_that_imports_the_filesystem_is_refused_at_load() {
        // The command component reads `file://` inputs, so it imports the filesystem,
        // which the library does not link.
        let command = std::fs::read(crate::COMMAND_WASM).unwrap();
        let refused = Runtime::from_bytes(&command, HostConfig::default()).err();
        let shown = refused.expect("not loaded").to_string();
        assert!(
            shown.starts_with("linking the component: ") && shown.contains("wasi:filesystem/"),
            "{shown}"
        );
    }

    #[test]
    fn an_export_called_with_another_signature_is_an_error() {
        let runtime = Runtime::new(HostConfig::default()).unwrap();
        let config = StartExecutionConfig::default();
        let refused = current_thread().block_on(async {
            let Warm {
                mut store,
                instance,
            } = runtime.instantiate().await.unwrap();
            let guest = runtime.loaded.exports.of(instance);
            // `validate` returns a result, not a number.
            let call = guest.call::<_, _, u32>(&mut store, Function::Validate, (&config,));
            call.await.err()
        });
        let shown = format!("{:#}", refused.expect("refused"));
        assert!(shown.contains("type mismatch"), "{shown}");
    }

    /// How many instances `runtime` keeps (taking them).
    fn kept(runtime: &Runtime) -> usize {
        std::iter::from_fn(|| runtime.kept.take()).count()
    }

    #[test]
    fn sequential_calls_run_in_one_kept_instance() {
        let runtime = Runtime::new(HostConfig::default()).unwrap();
        for _ in 0..3 {
            assert_eq!(validate_with(&runtime), Ok(()));
        }
        assert_eq!(kept(&runtime), 1);
    }

    #[test]
    fn a_runtime_that_does_not_reuse_instances_keeps_none() {
        let config = HostConfig {
            reuse_instances: false,
            ..HostConfig::default()
        };
        let runtime = Runtime::new(config).unwrap();
        assert_eq!(validate_with(&runtime), Ok(()));
        assert_eq!(kept(&runtime), 0);
    }

    /// A runtime with the kit's credentials, its server allowed, and options that send there;
    /// `reply` answers every request.
    fn against(
        reply: sfn_test_kit::standin::Reply,
        timeout: Duration,
    ) -> (sfn_test_kit::standin::StandIn, Runtime, ClientOptions) {
        use sfn_test_kit::{AKID, SECRET, sigv4::Credential, standin::StandIn};
        let server = StandIn::start(vec![Credential::new(AKID, SECRET)], move |_| reply.clone());
        let mut host = HostConfig {
            credentials: CredentialSource::Fixed(kit_credentials()),
            timeout,
            ..HostConfig::default()
        };
        host.allow_endpoint(&server.url());
        let options = ClientOptions {
            endpoint_url: Some(server.url()),
            max_attempts: Some(1),
            ..ClientOptions::default()
        };
        (server, Runtime::new(host).unwrap(), options)
    }

    /// wasmtime-wasi-http 48 leaves each request's options in the store; `outbound` drops
    /// them, so that a call that sent a request still leaves its instance reusable.
    #[test]
    fn a_call_that_sent_requests_leaves_its_instance_reusable() {
        let success =
            sfn_test_kit::standin::Reply::success(sfn_test_kit::EXECUTION_ARN, "1.7E9", "r");
        let (_server, runtime, options) = against(success, Duration::from_secs(60));
        let started = current_thread().block_on(runtime.start(&kit_config(None), &options));
        assert!(matches!(started, Ok(Ok(_))), "{started:?}");
        assert_eq!(kept(&runtime), 1);
    }

    /// The component gives up on a server that never answers at the call's timeout, with a
    /// request in flight: it drops the request, so nothing of it is left for the next call.
    #[test]
    fn a_call_that_timed_out_waiting_leaves_its_instance_reusable() {
        let hang = sfn_test_kit::standin::Reply::Hang;
        let (_server, runtime, options) = against(hang, Duration::from_millis(300));
        let started = current_thread().block_on(runtime.start(&kit_config(None), &options));
        let failure = started.unwrap().unwrap_err();
        assert!(
            matches!(&failure.error, Error::Transport(m)
                if m.ends_with("waiting for the response: the call's timeout of 300ms passed")),
            "{failure:?}"
        );
        assert_eq!(kept(&runtime), 1);
    }

    #[test]
    fn an_instance_whose_memory_grew_past_the_bound_is_not_kept() {
        let runtime = Runtime::new(HostConfig::default()).unwrap();
        let config = kit_config(Some(format!("\"{}\"", "x".repeat(262_142))));
        let options = ClientOptions {
            credentials: Some(kit_credentials()),
            ..ClientOptions::default()
        };
        let prepared = current_thread().block_on(runtime.prepare(&config, &options));
        assert!(matches!(prepared, Ok(Ok(_))), "{prepared:?}");
        assert_eq!(kept(&runtime), 0);
    }

    #[test]
    fn debug_shows_variable_names_but_no_values() {
        let config = HostConfig {
            env: vec![("AWS_SECRET_ACCESS_KEY".into(), "TOPSECRET".into())],
            ..HostConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("AWS_SECRET_ACCESS_KEY"), "{shown}");
        assert!(!shown.contains("TOPSECRET"), "{shown}");
    }
}
