//! `sfn-native-start`: what `sfn-start` does for one start, natively with `aws-sdk-sfn`:
//! the baseline of the benchmark's cold-CLI figure.
//!
//! Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN],
//! read by this program (no credential chain); the region is us-east-1. Prints the execution
//! as JSON, as `sfn-start` does.

use std::process::ExitCode;

use aws_sdk_sfn::error::DisplayErrorContext;
use clap::Parser;
use sfn_bench::native;

/// Start an AWS Step Functions execution with aws-sdk-sfn.
#[derive(Parser, Debug)]
#[command(name = "sfn-native-start")]
struct Args {
    #[arg(long, value_name = "ARN")]
    state_machine_arn: String,
    #[arg(long, value_name = "JSON")]
    input: Option<String>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long, value_name = "URL")]
    endpoint_url: String,
}

fn main() -> ExitCode {
    native::exit_with(start(&Args::parse()))
}

/// One start on a current-thread runtime, as `sfn-start` does it.
fn start(args: &Args) -> Result<String, String> {
    let client = native::client(&args.endpoint_url, native::credentials_from_env()?);
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    let request = client
        .start_execution()
        .state_machine_arn(&args.state_machine_arn)
        .set_input(args.input.clone())
        .set_name(args.name.clone())
        .send();
    let output = tokio
        .block_on(request)
        .map_err(|e| DisplayErrorContext(e).to_string())?;
    native::render(&output)
}
