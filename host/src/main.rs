//! `sfn-start`: start a Step Functions execution the way Terraform's
//! `aws_sfn_start_execution` action does, through the sandboxed component.
//!
//! The flags, output and exit statuses live in `sfn-cli`, shared with the command component
//! that `wasmtime run` runs; this front end adds `--component` and wasmtime.

use std::path::PathBuf;
use std::process::ExitCode;

use sfn_cli::{Backend, Flags, HostError};
use sfn_host::{
    ClientOptions, Error, Execution, Failure, FieldError, HostConfig, Instances, Runtime,
    SignedRequest, StartExecutionConfig,
};

/// Start an AWS Step Functions execution through the sfn:action WebAssembly component.
///
/// Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; a
/// custom endpoint from --endpoint-url, AWS_ENDPOINT_URL_SFN or AWS_ENDPOINT_URL.
#[derive(clap::Parser, Debug)]
#[command(name = "sfn-start", bin_name = "sfn-start", version)]
struct Args {
    #[command(flatten)]
    flags: Flags,
    /// Run this component instead of the embedded one (compiled once per content, cached
    /// under $XDG_CACHE_HOME/sfn-start or ~/.cache/sfn-start).
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
}

fn main() -> ExitCode {
    let status = match sfn_cli::parse::<Args>() {
        Ok(args) => sfn_cli::run(&args.flags, || Wasmtime::new(&args)),
        Err(status) => status,
    };
    ExitCode::from(status)
}

/// The plugin component under wasmtime, driven from a current-thread runtime.
struct Wasmtime {
    runtime: Runtime,
    tokio: tokio::runtime::Runtime,
}

impl Wasmtime {
    fn new(args: &Args) -> Result<Self, HostError> {
        let mut host = HostConfig::from_process_env();
        if let Some(url) = &args.flags.endpoint_url {
            host.allow_endpoint(url);
        }
        host.wall_clock = args.flags.signing_time;
        if let Some(timeout) = args.flags.timeout {
            host.timeout = timeout;
        }
        // One call per process: reserving a pool of instance slots would only cost time.
        host.instances = Instances::OnDemand;
        let runtime = match &args.component {
            Some(path) => Runtime::from_file(path, host),
            None => Runtime::new(host),
        };
        let runtime = runtime.map_err(|e| e.to_string())?;
        if let Some(why) = runtime.compiled_at_load() {
            eprintln!("warning: {why}");
        }
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the async runtime: {e}"))?;
        Ok(Self { runtime, tokio })
    }

    fn call<T>(
        &self,
        call: impl Future<Output = Result<T, sfn_host::HostError>>,
    ) -> Result<T, HostError> {
        self.tokio.block_on(call).map_err(|e| e.to_string())
    }
}

impl Backend for Wasmtime {
    fn validate(
        &mut self,
        config: &StartExecutionConfig,
    ) -> Result<Result<(), Vec<FieldError>>, HostError> {
        self.call(self.runtime.validate(config))
    }

    fn prepare(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, HostError> {
        self.call(self.runtime.prepare(config, options))
    }

    fn start(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Execution, Failure>, HostError> {
        self.call(self.runtime.start(config, options))
    }
}
