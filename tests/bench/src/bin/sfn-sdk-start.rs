//! `sfn-sdk-start`: one start as an SDK user writes it: aws-config's default loading, then
//! `aws_sdk_sfn::Client::new` and `start_execution`. The second baseline of the benchmark's
//! cold-CLI figure, next to `sfn-native-start`, which skips the loading.
//!
//! Everything comes from where the SDK looks by default: credentials from the chain
//! (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY first), the region from AWS_REGION, the
//! endpoint from AWS_ENDPOINT_URL, and the shared config files if there are any. The one
//! departure from `aws_config::load_defaults` is the HTTP client: aws-config's default one
//! is a crate feature that brings aws-lc, so this program is given the plain-HTTP client of
//! the lean baseline. Prints the execution as JSON, as `sfn-start` does.

use std::process::ExitCode;

use aws_config::BehaviorVersion;
use aws_sdk_sfn::error::DisplayErrorContext;
use clap::Parser;
use sfn_bench::native;

/// Start an AWS Step Functions execution with aws-config's defaults and aws-sdk-sfn.
#[derive(Parser, Debug)]
#[command(name = "sfn-sdk-start")]
struct Args {
    #[arg(long, value_name = "ARN")]
    state_machine_arn: String,
    #[arg(long, value_name = "JSON")]
    input: Option<String>,
    #[arg(long)]
    name: Option<String>,
}

fn main() -> ExitCode {
    native::exit_with(start(&Args::parse()))
}

/// Loads the configuration and starts, on a current-thread runtime as `sfn-start` does.
fn start(args: &Args) -> Result<String, String> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    tokio.block_on(async {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(native::http_client())
            .load()
            .await;
        let client = aws_sdk_sfn::Client::new(&config);
        let output = client
            .start_execution()
            .state_machine_arn(&args.state_machine_arn)
            .set_input(args.input.clone())
            .set_name(args.name.clone())
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        native::render(&output)
    })
}
