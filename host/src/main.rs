//! `sfn-start`: start a Step Functions execution the way Terraform's
//! `aws_sfn_start_execution` action does, through the sandboxed component.
//!
//! The flags, output and exit statuses live in `sfn-cli`, shared with the command component
//! that `wasmtime run` runs; this front end adds `--component`, `--profile`, `--debug` and
//! wasmtime.

mod report;

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

/// The region field of an ARN (`arn:partition:states:REGION:...`), when it has one; the
/// component checks the ARN itself.
fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|region| !region.is_empty())
}

/// The plugin component under wasmtime, driven from a current-thread runtime.
struct Wasmtime {
    /// Never dropped: the process ends after its one call, and exiting frees the compiled
    /// code and stops the epoch thread sooner than the destructors would (unmapping,
    /// joining the thread).
    runtime: ManuallyDrop<Runtime>,
    tokio: tokio::runtime::Runtime,
    debug: bool,
}

impl Wasmtime {
    fn new(args: &Args, config: &StartExecutionConfig) -> Result<Self, BackendError> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the async runtime: {e}"))?;
        let flags = &args.flags;
        let region = config.region.as_deref();
        let region = region.or_else(|| region_of(&config.state_machine_arn));
        // Checking the arguments needs no credentials and no settings: no files are read.
        let mut host = if flags.validate_only {
            HostConfig::from_process_env()
        } else {
            let host = HostConfig::from_aws_config(args.profile.as_deref(), region);
            tokio.block_on(host).map_err(|e| e.to_string())?
        };
        if let Some(url) = &flags.endpoint_url {
            host.allow_endpoint(url);
        }
        host.wall_clock = flags.signing_time;
        if let Some(timeout) = flags.timeout {
            host.timeout = timeout;
        }
        // One call per process: reserving a pool of instance slots would only cost time.
        host.instances = Instances::OnDemand;
        host.cache_dir = sfn_host::cache::default_dir();
        let runtime = match &args.component {
            Some(path) => Runtime::from_file(path, host),
            None => Runtime::new(host),
        };
        let runtime = runtime.map_err(|e| e.to_string())?;
        Ok(Self {
            runtime: ManuallyDrop::new(runtime),
            tokio,
            debug: args.debug,
        })
    }

    fn call<T>(&self, call: impl Future<Output = Result<T, HostError>>) -> Result<T, BackendError> {
        self.tokio.block_on(call).map_err(|e| match e {
            // The trap's wasm backtrace is for whoever debugs the component.
            HostError::Trap(trap) if self.debug => format!("the component trapped: {trap:?}"),
            e => e.to_string(),
        })
    }
}

impl Backend for Wasmtime {
    fn validate(
        &mut self,
        config: &StartExecutionConfig,
    ) -> Result<Result<(), Vec<FieldError>>, BackendError> {
        self.call(self.runtime.validate(config))
    }

    fn prepare(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, BackendError> {
        self.call(self.runtime.prepare(config, options))
    }

    fn start(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Execution, Failure>, BackendError> {
        self.call(self.runtime.start(config, options))
    }

    fn prepare_sync(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, BackendError> {
        self.call(self.runtime.prepare_sync(config, options))
    }

    fn start_sync(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Outcome, Failure>, BackendError> {
        self.call(self.runtime.start_sync(config, options))
    }

    fn wait(
        &mut self,
        execution_arn: &str,
        options: &ClientOptions,
        max_wait: Duration,
    ) -> Result<Result<Outcome, Failure>, BackendError> {
        self.call(self.runtime.wait(execution_arn, options, max_wait))
    }
}
