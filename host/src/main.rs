//! `sfn-start`: start a Step Functions execution the way Terraform's
//! `aws_sfn_start_execution` action does, through the sandboxed component.
//!
//! The flags, output and exit statuses live in `sfn-cli`, shared with the command component
//! that `wasmtime run` runs; this front end adds `--component` and wasmtime.

use std::path::PathBuf;
use std::process::ExitCode;

use sfn_cli::{Backend, Client, Failure, Flags, HostError, Request, Signed, Started};
use sfn_host::{ClientOptions, Error, HostConfig, Runtime, StartExecutionConfig};

/// Start an AWS Step Functions execution through the sfn:action WebAssembly component.
///
/// Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; a
/// custom endpoint from --endpoint-url, AWS_ENDPOINT_URL_SFN or AWS_ENDPOINT_URL.
#[derive(clap::Parser, Debug)]
#[command(name = "sfn-start", bin_name = "sfn-start", version)]
struct Args {
    #[command(flatten)]
    flags: Flags,
    /// Run this component instead of the embedded one.
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
        let runtime = match &args.component {
            Some(path) => Runtime::from_file(path, host),
            None => Runtime::new(host),
        };
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the async runtime: {e}"))?;
        Ok(Self {
            runtime: runtime.map_err(|e| format!("{e:#}"))?,
            tokio,
        })
    }

    fn call<T>(
        &self,
        call: impl Future<Output = anyhow::Result<Result<T, Error>>>,
    ) -> Result<Result<T, Failure>, HostError> {
        match self.tokio.block_on(call) {
            Ok(outcome) => Ok(outcome.map_err(failure)),
            Err(e) => Err(format!("{e:#}")),
        }
    }
}

impl Backend for Wasmtime {
    fn validate(&mut self, request: &Request) -> Result<Result<(), Failure>, HostError> {
        let config = config(request);
        self.call(async {
            let outcome = self.runtime.validate(&config).await?;
            Ok(outcome.map_err(Error::InvalidConfig))
        })
    }

    fn prepare(
        &mut self,
        request: &Request,
        client: &Client,
    ) -> Result<Result<Signed, Failure>, HostError> {
        let (config, options) = (config(request), options(client));
        let outcome = self.call(self.runtime.prepare(&config, &options))?;
        Ok(outcome.map(|r| Signed {
            method: r.method,
            url: r.url,
            headers: r.headers,
            body: r.body,
        }))
    }

    fn start(
        &mut self,
        request: &Request,
        client: &Client,
    ) -> Result<Result<Started, Failure>, HostError> {
        let (config, options) = (config(request), options(client));
        let outcome = self.call(self.runtime.start(&config, &options))?;
        Ok(outcome.map(|e| Started {
            execution_arn: e.execution_arn,
            start_date_epoch_ms: e.start_date_epoch_ms,
            request_id: e.request_id,
        }))
    }
}

fn config(request: &Request) -> StartExecutionConfig {
    StartExecutionConfig {
        state_machine_arn: request.state_machine_arn.clone(),
        input: request.input.clone(),
        name: request.name.clone(),
        region: request.region.clone(),
        trace_header: request.trace_header.clone(),
    }
}

fn options(client: &Client) -> ClientOptions {
    ClientOptions {
        credentials: None,
        endpoint_url: client.endpoint_url.clone(),
        use_fips: client.fips,
        use_dual_stack: client.dual_stack,
    }
}

fn failure(error: Error) -> Failure {
    match error {
        Error::InvalidConfig(errors) => {
            Failure::Invalid(errors.into_iter().map(|e| (e.field, e.message)).collect())
        }
        Error::MissingCredentials(m) => Failure::MissingCredentials(m),
        Error::Service(e) => Failure::Service {
            status: e.status,
            code: e.code,
            message: e.message,
            request_id: e.request_id,
        },
        Error::Transport(m) => Failure::Transport(m),
        Error::InvalidResponse(m) => Failure::InvalidResponse(m),
    }
}
