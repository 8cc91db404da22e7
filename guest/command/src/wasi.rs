//! The command's backend: the core, called directly, with the WASI environment, clock and
//! transport.

use std::time::{Duration, SystemTime};

use sfn_cli::{Backend, BackendError, Flags};
use sfn_core::transport::{Wasi, env_lookup};
use sfn_core::{
    ClientOptions, Error, Execution, Failure, FieldError, Outcome, SignedRequest,
    StartExecutionConfig,
};

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
            sfn_cli::run(&args.flags, |_| Ok(Core { signing_time }))
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
        // Nothing runs after this call, not even std's flush of its stdout buffer.
        let _ = std::io::Write::flush(&mut std::io::stdout());
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
    fn validate(
        &mut self,
        config: &StartExecutionConfig,
    ) -> Result<Result<(), Vec<FieldError>>, BackendError> {
        Ok(sfn_core::validate(config))
    }

    fn prepare(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, BackendError> {
        let env = env_lookup();
        Ok(sfn_core::prepare(config, options, &env, self.now()))
    }

    fn start(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Execution, Failure>, BackendError> {
        let env = env_lookup();
        Ok(sfn_core::start(config, options, &env, &mut Wasi))
    }

    fn prepare_sync(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<SignedRequest, Error>, BackendError> {
        let env = env_lookup();
        Ok(sfn_core::prepare_sync(config, options, &env, self.now()))
    }

    fn start_sync(
        &mut self,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Result<Result<Outcome, Failure>, BackendError> {
        let env = env_lookup();
        Ok(sfn_core::start_sync(config, options, &env, &mut Wasi))
    }

    fn wait(
        &mut self,
        execution_arn: &str,
        options: &ClientOptions,
        max_wait: Duration,
    ) -> Result<Result<Outcome, Failure>, BackendError> {
        let env = env_lookup();
        Ok(sfn_core::wait(
            execution_arn,
            options,
            &env,
            &mut Wasi,
            max_wait,
        ))
    }
}
