//! The native baselines: `aws-sdk-sfn` over plain HTTP/1.1. The lean one is configured by
//! hand so that no credential chain, profile file or instance metadata is ever consulted.

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_sdk_sfn::operation::RequestId;
use aws_sdk_sfn::operation::start_execution::StartExecutionOutput;
use aws_sdk_sfn::primitives::DateTimeFormat;

/// The region of [`crate::STATE_MACHINE_ARN`].
pub const REGION: &str = "us-east-1";

/// A client that sends to `endpoint_url` with static credentials, over [`http_client`];
/// retries stay at the defaults.
pub fn client(endpoint_url: &str, credentials: Credentials) -> aws_sdk_sfn::Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(credentials)
        .endpoint_url(endpoint_url)
        .http_client(http_client())
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}

/// Static credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN`, read here rather than by the SDK's provider chain.
pub fn credentials_from_env() -> Result<Credentials, String> {
    let var = |name: &str| std::env::var(name).map_err(|e| format!("{name}: {e}"));
    let token = std::env::var("AWS_SESSION_TOKEN").ok();
    let (id, secret) = (var("AWS_ACCESS_KEY_ID")?, var("AWS_SECRET_ACCESS_KEY")?);
    Ok(static_credentials(id, secret, token))
}

/// Credentials that never expire, named after this crate in the SDK's debug output.
pub fn static_credentials(id: String, secret: String, token: Option<String>) -> Credentials {
    Credentials::new(id, secret, token, None, "sfn-bench")
}

/// The SDK's own hyper 1 client (pooled, keep-alive) without TLS.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_http()
}

/// The fields `sfn-start` prints, pretty-printed as it does.
pub fn render(output: &StartExecutionOutput) -> Result<String, String> {
    let start_date = output
        .start_date()
        .fmt(DateTimeFormat::DateTime)
        .map_err(|e| format!("formatting the start date: {e}"))?;
    let json = serde_json::json!({
        "executionArn": output.execution_arn(),
        "startDate": start_date,
        "requestId": output.request_id(),
    });
    serde_json::to_string_pretty(&json).map_err(|e| format!("rendering JSON: {e}"))
}

/// The exit of a baseline program: its execution's JSON on standard output, or its error.
pub fn exit_with(started: Result<String, String>) -> std::process::ExitCode {
    match started {
        Ok(json) => {
            println!("{json}");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
