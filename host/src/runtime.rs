//! A loaded component and the calls that run in it: each in a kept instance or a new one,
//! with the host's credentials and settings completed, within the call's deadline.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::Store;

use crate::bindings::{Guest, Plugin};
use crate::config::{HostConfig, KEPT_MEMORY};
use crate::error::MemoryLimitReached;
use crate::loading::{self, Loaded};
use crate::outbound::{Connections, Outbound};
use crate::policy::Policy;
use crate::shared_config::CredentialSource;
use crate::store::State;
use crate::warm::Kept;
use crate::{
    ClientOptions, ConfigError, Error, Execution, Failure, FieldError, HostError, Outcome,
    SignedRequest, StartExecutionConfig,
};

type Result<T, E = HostError> = std::result::Result<T, E>;

/// How long past its timeout a call's component has to return its own timeout error before
/// the host stops it.
const REPORTING_GRACE: Duration = Duration::from_millis(250);

/// A loaded, pre-instantiated component. Cheap to call many times; safe to share. Its calls
/// share one pool of HTTP connections.
pub struct Runtime {
    kept: Kept<Warm>,
    loaded: Arc<Loaded>,
    connections: Connections,
    policy: Arc<Policy>,
    config: HostConfig,
}

impl Runtime {
    /// Loads the embedded plugin component: compiled here, or its code from
    /// [`HostConfig::cache_dir`] when that holds a trusted entry for it.
    pub fn new(config: HostConfig) -> Result<Self> {
        Self::from_bytes(crate::COMPONENT, config)
    }

    /// Loads a component from a `.wasm` file, as [`Runtime::new`] loads the embedded one.
    pub fn from_file(path: &Path, config: HostConfig) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, config)
    }

    /// Loads a component from its bytes, as [`Runtime::new`] loads the embedded one.
    pub fn from_bytes(wasm: &[u8], config: HostConfig) -> Result<Self> {
        let loaded = Arc::new(loading::load(wasm, &config)?);
        let connections = Connections::new(config.io_timeouts)?;
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
            Connections::new(config.io_timeouts)?
        };
        Self::configured(self.loaded.clone(), connections, config)
    }

    fn configured(
        loaded: Arc<Loaded>,
        connections: Connections,
        config: HostConfig,
    ) -> Result<Self> {
        let policy =
            Policy::new(config.allowed_endpoint.as_deref()).map_err(ConfigError::Endpoint)?;
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
        if let Some(errors) = oversized(config) {
            return Ok(Err(errors));
        }
        self.bounded(self.in_instance(None, async |store, guest| {
            guest.call_validate(store, config).await
        }))
        .await
    }

    /// Validates and signs the request without sending it.
    pub async fn prepare(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>> {
        if let Some(errors) = oversized(config) {
            return Ok(Err(Error::InvalidConfig(errors)));
        }
        self.sign(options, async |store, guest, options| {
            guest.call_prepare(store, config, &options).await
        })
        .await
    }

    /// As [`Runtime::prepare`], for StartSyncExecution.
    pub async fn prepare_sync(
        &self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>> {
        if let Some(errors) = oversized(config) {
            return Ok(Err(Error::InvalidConfig(errors)));
        }
        self.sign(options, async |store, guest, options| {
            guest.call_prepare_sync(store, config, &options).await
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
            &Guest,
            ClientOptions,
        ) -> wasmtime::Result<std::result::Result<SignedRequest, Error>>,
    ) -> Result<Result<SignedRequest, Error>> {
        self.bounded(async {
            let options = match self.completed(options).await {
                Ok(options) => options,
                Err(error) => return Ok(Err(error)),
            };
            // Signing sends nothing: the call may reach no standard endpoint.
            self.in_instance(None, async |store, guest| {
                export(store, guest, options).await
            })
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
        if let Some(errors) = oversized(config) {
            return Ok(Err(Failure::refused(Error::InvalidConfig(errors))));
        }
        let limit = self.config.timeout;
        self.call(
            &config.state_machine_arn,
            options,
            limit,
            Duration::ZERO,
            async |store, guest, options| guest.call_start(store, config, &options).await,
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
        if let Some(errors) = oversized(config) {
            return Ok(Err(Failure::refused(Error::InvalidConfig(errors))));
        }
        let limit = self.sync_limit();
        self.call(
            &config.state_machine_arn,
            options,
            limit,
            Duration::ZERO,
            async |store, guest, options| guest.call_start_sync(store, config, &options).await,
        )
        .await
    }

    /// DescribeExecution, with retries, within [`HostConfig::timeout`].
    pub async fn describe(
        &self,
        execution_arn: &str,
        options: &ClientOptions,
    ) -> Result<Result<Outcome, Failure>> {
        if let Some(error) = overlong("execution_arn", execution_arn) {
            return Ok(Err(Failure::refused(Error::InvalidConfig(vec![error]))));
        }
        let limit = self.config.timeout;
        self.call(
            execution_arn,
            options,
            limit,
            Duration::ZERO,
            async |store, guest, options| guest.call_describe(store, execution_arn, &options).await,
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
        if let Some(error) = overlong("execution_arn", execution_arn) {
            return Ok(Err(Failure::refused(Error::InvalidConfig(vec![error]))));
        }
        let limit = self.config.timeout;
        let max_wait_ms = u64::try_from(max_wait.as_millis()).unwrap_or(u64::MAX);
        self.call(
            execution_arn,
            options,
            limit,
            max_wait,
            async |store, guest, options| {
                let wait = guest.call_wait(store, execution_arn, &options, max_wait_ms);
                wait.await
            },
        )
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
        arn: &str,
        options: &ClientOptions,
        limit: Duration,
        extra: Duration,
        export: impl AsyncFnOnce(
            &mut Store<State>,
            &Guest,
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
            self.in_instance(Some(arn), async |store, guest| {
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

    /// The call's options, with the host's settings and credentials where it has none; an
    /// option too long to copy into the component is refused here.
    async fn completed(&self, options: &ClientOptions) -> Result<ClientOptions, Error> {
        let settings = &self.config.settings;
        let credentials = match (&options.credentials, &self.config.credentials) {
            (Some(own), _) => Some(own.clone()),
            (None, CredentialSource::None) => None,
            (None, CredentialSource::Fixed(fixed)) => Some(fixed.clone()),
            (None, CredentialSource::Chain(chain)) => {
                let resolved = chain.credentials().await;
                Some(resolved.map_err(|e| Error::MissingCredentials(e.to_string()))?)
            }
        };
        let completed = ClientOptions {
            credentials,
            endpoint_url: options
                .endpoint_url
                .clone()
                .or(settings.endpoint_url.clone()),
            use_fips: options.use_fips || settings.use_fips,
            use_dual_stack: options.use_dual_stack || settings.use_dual_stack,
            max_attempts: options.max_attempts.or(settings.max_attempts),
            timeout_ms: options.timeout_ms,
        };
        match overlong_options(&completed) {
            errors if errors.is_empty() => Ok(completed),
            errors => Err(Error::InvalidConfig(errors)),
        }
    }

    /// Runs `call` in a kept instance or a new one, and keeps the instance if the call
    /// ended cleanly. One that traps, or is stopped (this future dropped), is dropped.
    async fn in_instance<T>(
        &self,
        arn: Option<&str>,
        call: impl AsyncFnOnce(&mut Store<State>, &Guest) -> wasmtime::Result<T>,
    ) -> Result<T> {
        let outbound = self.outbound(arn);
        let mut warm = match self.kept.take() {
            Some(kept) => kept.for_next_call(outbound),
            None => self.instantiate(outbound).await?,
        };
        let guest = warm.plugin.sfn_action_start_execution();
        let result = match call(&mut warm.store, guest).await {
            Ok(result) => result,
            Err(trap) => {
                // Most likely the component's allocation failing at the limit: say so.
                let trap = if warm.store.data().limits.reached_limit {
                    trap.context(MemoryLimitReached(self.config.memory_limit))
                } else {
                    trap
                };
                return Err(HostError::Trap(trap));
            }
        };
        if self.config.reuse_instances && warm.reusable() {
            self.kept.keep(warm);
        }
        Ok(result)
    }

    async fn instantiate(&self, outbound: Outbound) -> Result<Warm> {
        let state = State::new(&self.config, outbound);
        let mut store = Store::new(&self.loaded.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let plugin = self
            .loaded
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| HostError::Load(e.context("instantiating the component")))?;
        Ok(Warm { store, plugin })
    }

    /// The outbound hook of a call about `arn`: it reaches only that ARN's region (see
    /// [`Policy::for_call`]), so that a component holding the host's credentials cannot
    /// send them to any other region's or partition's hosts.
    fn outbound(&self, arn: Option<&str>) -> Outbound {
        let policy = Arc::new(self.policy.for_call(arn));
        Outbound::new(policy, self.connections.clone())
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

/// The field errors of a call with an argument longer than any valid one (the input's
/// limit is the largest), found by the core's own rules here: such an argument is never
/// copied into the component, where one larger than its memory would trap it.
fn oversized(config: &StartExecutionConfig) -> Option<Vec<FieldError>> {
    let arguments = [
        Some(&config.state_machine_arn),
        config.input.as_ref(),
        config.name.as_ref(),
        config.region.as_ref(),
        config.trace_header.as_ref(),
    ];
    let within = |text: &String| text.len() <= sfn_core::MAX_INPUT_BYTES;
    if arguments.into_iter().flatten().all(within) {
        return None;
    }
    sfn_core::validate(config).err()
}

/// An argument longer than the longest the service takes (the input's limit), refused
/// here: copied into the component, one larger than its memory would trap it.
fn overlong(field: &str, text: &str) -> Option<FieldError> {
    let (length, limit) = (text.len(), sfn_core::MAX_INPUT_BYTES);
    (length > limit).then(|| FieldError {
        field: field.to_string(),
        message: format!("must be at most {limit} bytes, got {length}"),
    })
}

/// [`overlong`] for the client options' texts, named as the component names them.
fn overlong_options(options: &ClientOptions) -> Vec<FieldError> {
    let credentials = options.credentials.iter().flat_map(|c| {
        let token = c.session_token.as_deref();
        [
            Some(c.access_key_id.as_str()),
            Some(c.secret_access_key.as_str()),
            token,
        ]
    });
    let endpoint = options
        .endpoint_url
        .as_deref()
        .map(|url| ("endpoint_url", url));
    let texts = credentials.flatten().map(|text| ("credentials", text));
    let mut errors: Vec<FieldError> = texts
        .chain(endpoint)
        .filter_map(|(field, text)| overlong(field, text))
        .collect();
    // One error per field: a credential's length says nothing about which part it was.
    errors.dedup_by(|a, b| a.field == b.field);
    errors
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

/// A store with the component instantiated in it, between calls or in one.
struct Warm {
    store: Store<State>,
    plugin: Plugin,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, Instances};

    /// The embedded component, compiled once for these tests; each reconfigures it.
    fn loaded(config: HostConfig) -> Runtime {
        static BASE: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
        let base = BASE.get_or_init(|| Runtime::new(HostConfig::default()).unwrap());
        base.with_config(config).unwrap()
    }

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
    fn the_embedded_component_loads_with_either_allocator() {
        for instances in [Instances::Pooled, Instances::OnDemand] {
            let config = HostConfig {
                instances,
                ..HostConfig::default()
            };
            let runtime = Runtime::new(config).unwrap();
            assert_eq!(validate_with(&runtime), Ok(()), "{instances:?}");
        }
    }

    #[test]
    fn compiled_code_is_kept_in_the_cache_and_loaded_from_it() {
        let home = tempfile::tempdir().unwrap();
        let config = HostConfig {
            instances: Instances::OnDemand,
            cache_dir: Some(home.path().join("components")),
            ..HostConfig::default()
        };
        let first = Runtime::new(config.clone()).unwrap();
        let entries = || {
            std::fs::read_dir(home.path().join("components"))
                .unwrap()
                .count()
        };
        assert_eq!(entries(), 1);
        let again = Runtime::new(config).unwrap();
        assert_eq!(entries(), 1);
        assert_eq!(validate_with(&first), Ok(()));
        assert_eq!(validate_with(&again), Ok(()));
    }

    #[test]
    fn a_cache_entry_that_is_not_wasmtime_code_is_recompiled_over() {
        let home = tempfile::tempdir().unwrap();
        let config = HostConfig {
            instances: Instances::OnDemand,
            cache_dir: Some(home.path().to_path_buf()),
            ..HostConfig::default()
        };
        drop(Runtime::new(config.clone()).unwrap());
        let entry = std::fs::read_dir(home.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        std::fs::write(entry.path(), b"not code").unwrap();
        let runtime = Runtime::new(config).unwrap();
        assert_eq!(validate_with(&runtime), Ok(()));
        assert_ne!(std::fs::read(entry.path()).unwrap(), b"not code");
    }

    #[test]
    fn a_component_without_the_interface_is_refused_at_load_naming_it() {
        // The smallest component: its preamble, nothing exported.
        let empty = b"\0asm\x0d\x00\x01\x00";
        let refused = Runtime::from_bytes(empty, HostConfig::default()).err();
        let shown = refused.expect("not loaded").to_string();
        assert!(
            shown.starts_with("finding the component's exports: ")
                && shown.contains("no exported instance named `sfn:action/"),
            "{shown}"
        );
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

    /// How many instances `runtime` keeps (taking them).
    fn kept(runtime: &Runtime) -> usize {
        std::iter::from_fn(|| runtime.kept.take()).count()
    }

    #[test]
    fn sequential_calls_run_in_one_kept_instance() {
        let runtime = loaded(HostConfig::default());
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
        let runtime = loaded(config);
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
        (server, loaded(host), options)
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
        let runtime = loaded(HostConfig::default());
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
