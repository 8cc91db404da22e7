//! The command's backend: the core, called directly, with the WASI environment, clock and
//! transport.

use std::time::SystemTime;

use sfn_cli::{Backend, Client, Failure, Flags, HostError, Request, Signed, Started};
use sfn_start_execution::transport::{env_lookup, send};
use sfn_start_execution::{Config, Credentials, Error, Options};

/// Start an AWS Step Functions execution (the sfn:action core as a WASI command).
///
/// Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; a
/// custom endpoint from --endpoint-url, AWS_ENDPOINT_URL_SFN or AWS_ENDPOINT_URL.
#[derive(clap::Parser, Debug)]
// bin_name: argv[0] under `wasmtime run` is the file name, `sfn-start.wasm`.
#[command(name = "sfn-start", bin_name = "sfn-start", version)]
struct Args {
    #[command(flatten)]
    flags: Flags,
}

pub fn main() {
    let status = match sfn_cli::parse::<Args>() {
        Ok(args) => {
            let signing_time = args.flags.signing_time;
            sfn_cli::run(&args.flags, || Ok(Core { signing_time }))
        }
        Err(status) => status,
    };
    exit(status)
}

/// WASI 0.2's stable `exit` only tells success from failure (std turns every failure into
/// status 1), so the command uses `exit-with-code`, which wasmtime provides, for every
/// status but 0: 2 for invalid arguments must stay 2.
fn exit(status: u8) -> ! {
    if status != 0 {
        wasip2::cli::exit::exit_with_code(status);
    }
    std::process::exit(0)
}

struct Core {
    signing_time: Option<SystemTime>,
}

impl Core {
    fn now(&self) -> SystemTime {
        self.signing_time.unwrap_or_else(SystemTime::now)
    }
}

impl Backend for Core {
    fn validate(&mut self, request: &Request) -> Result<Result<(), Failure>, HostError> {
        let config = config(request);
        let outcome = sfn_start_execution::validate(&config).map(|_| ());
        Ok(outcome.map_err(|e| failure(Error::InvalidConfig(e))))
    }

    fn prepare(
        &mut self,
        request: &Request,
        client: &Client,
    ) -> Result<Result<Signed, Failure>, HostError> {
        let env = env_lookup();
        let outcome =
            sfn_start_execution::prepare(&config(request), &options(client), &env, self.now());
        Ok(outcome.map_err(failure).map(|r| Signed {
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
        let env = env_lookup();
        let (config, options) = (config(request), options(client));
        let outcome = sfn_start_execution::start(&config, &options, &env, self.now(), send);
        Ok(outcome.map_err(failure).map(|e| Started {
            execution_arn: e.execution_arn,
            start_date_epoch_ms: e.start_date_epoch_ms,
            request_id: e.request_id,
        }))
    }
}

fn config(request: &Request) -> Config {
    Config {
        state_machine_arn: request.state_machine_arn.clone(),
        input: request.input.clone(),
        name: request.name.clone(),
        region: request.region.clone(),
        trace_header: request.trace_header.clone(),
    }
}

fn options(client: &Client) -> Options {
    Options {
        credentials: None::<Credentials>,
        endpoint_url: client.endpoint_url.clone(),
        use_fips: client.fips,
        use_dual_stack: client.dual_stack,
    }
}

fn failure(error: Error) -> Failure {
    match error {
        Error::InvalidConfig(errors) => Failure::Invalid(
            errors
                .into_iter()
                .map(|e| (e.field.to_string(), e.message))
                .collect(),
        ),
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
