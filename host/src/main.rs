//! `sfn-start`: start a Step Functions execution the way Terraform's
//! `aws_sfn_start_execution` action does, through the sandboxed component.
//!
//! The flags, output and exit statuses live in `sfn-cli`, shared with the command component
//! that `wasmtime run` runs; this front end adds `--component`, `--profile`, `--debug` and
//! wasmtime.

mod report;

use std::cell::OnceCell;
use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use sfn_cli::{Backend, BackendError, Flags};
use sfn_host::{
    ClientOptions, Error, Execution, Failure, FieldError, HostConfig, HostError, Instances,
    Outcome, Runtime, SignedRequest, StartExecutionConfig,
};

/// Start an AWS Step Functions execution through the sfn:action WebAssembly component.
///
/// Credentials and settings come from where the AWS CLI finds them: the environment, the
/// profile (--profile or AWS_PROFILE) in the shared config and credentials files with its
/// roles, SSO session or credential process, web identity, container credentials and the
/// instance metadata service. A custom endpoint comes from --endpoint-url, AWS_ENDPOINT_URL_SFN,
/// AWS_ENDPOINT_URL, or the profile.
#[derive(clap::Parser, Debug)]
#[command(name = "sfn-start", bin_name = "sfn-start", version)]
struct Args {
    #[command(flatten)]
    flags: Flags,
    /// Run this component instead of the embedded one (compiled once per content, cached
    /// under $XDG_CACHE_HOME/sfn-start or ~/.cache/sfn-start).
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
    /// The profile of the shared config and credentials files to use [default: AWS_PROFILE,
    /// else default].
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Show each request's method, URL, operation, attempt, status and timing on standard
    /// error (never a header or the body), and a trap's full backtrace.
    #[arg(long)]
    debug: bool,
}

fn main() -> ExitCode {
    let status = match sfn_cli::parse::<Args>() {
        Ok(args) => {
            report::to_standard_error(args.debug);
            sfn_cli::run(&args.flags, |config| Wasmtime::new(&args, config))
        }
        Err(status) => status,
    };
    ExitCode::from(status)
}

/// The plugin component under wasmtime, driven from a current-thread runtime. The
/// arguments are checked first, by a runtime that sees only this process's variables: the
/// AWS configuration (files, the credential chain) is read only for a valid call.
struct Wasmtime {
    /// Never dropped: the process ends after its one call, and exiting frees the compiled
    /// code and stops the epoch thread sooner than the destructors would (unmapping,
    /// joining the thread).
    local: ManuallyDrop<Runtime>,
    /// The same component with the AWS configuration, once a valid call needs it.
    configured: OnceCell<ManuallyDrop<Runtime>>,
    profile: Option<String>,
    flags: Flags,
    /// The region for STS and SSO when nothing else names one: the state machine's.
    region: Option<String>,
    tokio: tokio::runtime::Runtime,
    debug: bool,
}

impl Wasmtime {
    fn new(args: &Args, config: &StartExecutionConfig) -> Result<Self, BackendError> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the async runtime: {e}"))?;
        let mut host = HostConfig::from_process_env();
        apply_flags(&args.flags, &mut host);
        // One call per process: reserving a pool of instance slots would only cost time.
        host.instances = Instances::OnDemand;
        host.cache_dir = sfn_host::cache::default_dir();
        let local = match &args.component {
            Some(path) => Runtime::from_file(path, host),
            None => Runtime::new(host),
        };
        let local = local.map_err(|e| e.to_string())?;
        let region = config.region.as_deref();
        let region = region.or_else(|| sfn_core::region_of_arn(&config.state_machine_arn));
        Ok(Self {
            local: ManuallyDrop::new(local),
            configured: OnceCell::new(),
            profile: args.profile.clone(),
            flags: args.flags.clone(),
            region: region.map(str::to_string),
            tokio,
            debug: args.debug,
        })
    }

    /// The runtime with the AWS configuration: credentials from the default chain and the
    /// profile's settings, with the flags on top.
    fn configured(&self) -> Result<&Runtime, BackendError> {
        if self.configured.get().is_none() {
            let aws = HostConfig::from_aws_config(self.profile.as_deref(), self.region.as_deref());
            let mut host = self.tokio.block_on(aws).map_err(|e| e.to_string())?;
            apply_flags(&self.flags, &mut host);
            let runtime = self.local.with_config(host).map_err(|e| e.to_string())?;
            let _ = self.configured.set(ManuallyDrop::new(runtime));
        }
        Ok(self.configured.get().expect("set above"))
    }

    /// The field errors of `config`, if any, found without reading any AWS configuration.
    fn invalid(&self, config: &StartExecutionConfig) -> Result<Option<Error>, BackendError> {
        let checked = self.call(self.local.validate(config))?;
        Ok(checked.err().map(Error::InvalidConfig))
    }

    fn call<T>(&self, call: impl Future<Output = Result<T, HostError>>) -> Result<T, BackendError> {
        self.tokio.block_on(call).map_err(|e| match e {
            // The trap's wasm backtrace is for whoever debugs the component.
            HostError::Trap(trap) if self.debug => format!("the component trapped: {trap:?}"),
            e => e.to_string(),
        })
    }
}

/// The flags that shape the host: the allowed endpoint, the clock and the timeout.
fn apply_flags(flags: &Flags, host: &mut HostConfig) {
    if let Some(url) = &flags.endpoint_url {
        host.allow_endpoint(url);
    }
    host.wall_clock = flags.signing_time;
    if let Some(timeout) = flags.timeout {
        host.timeout = timeout;
    }
}

impl Backend for Wasmtime {
    fn validate(
        &mut self,
        config: &StartExecutionConfig,
    ) -> Result<Result<(), Vec<FieldError>>, BackendError> {
        self.call(self.local.validate(config))
    }

    fn prepare(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, BackendError> {
        if let Some(invalid) = self.invalid(config)? {
            return Ok(Err(invalid));
        }
        let runtime = self.configured()?;
        self.call(runtime.prepare(config, options))
    }

    fn start(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Execution, Failure>, BackendError> {
        if let Some(invalid) = self.invalid(config)? {
            return Ok(Err(Failure::refused(invalid)));
        }
        let runtime = self.configured()?;
        self.call(runtime.start(config, options))
    }

    fn prepare_sync(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, BackendError> {
        if let Some(invalid) = self.invalid(config)? {
            return Ok(Err(invalid));
        }
        let runtime = self.configured()?;
        self.call(runtime.prepare_sync(config, options))
    }

    fn start_sync(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Outcome, Failure>, BackendError> {
        if let Some(invalid) = self.invalid(config)? {
            return Ok(Err(Failure::refused(invalid)));
        }
        let runtime = self.configured()?;
        self.call(runtime.start_sync(config, options))
    }

    fn wait(
        &mut self,
        execution_arn: &str,
        options: &ClientOptions,
        max_wait: Duration,
    ) -> Result<Result<Outcome, Failure>, BackendError> {
        let runtime = self.configured()?;
        self.call(runtime.wait(execution_arn, options, max_wait))
    }
}
