//! `sfn-start`: start a Step Functions execution the way Terraform's
//! `aws_sfn_start_execution` action does, through the sandboxed component.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use sfn_host::{ClientOptions, Error, HostConfig, Runtime, SignedRequest, StartExecutionConfig};

/// Start an AWS Step Functions execution through the sfn:action WebAssembly component.
///
/// Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; a
/// custom endpoint from --endpoint-url, AWS_ENDPOINT_URL_SFN or AWS_ENDPOINT_URL.
#[derive(Parser, Debug)]
#[command(name = "sfn-start", version)]
struct Args {
    /// ARN of the state machine (unqualified, version- or alias-qualified).
    #[arg(long, value_name = "ARN")]
    state_machine_arn: String,
    /// JSON input: the text itself, @FILE to read a file, or - to read standard input.
    #[arg(long, value_name = "JSON|@FILE|-")]
    input: Option<String>,
    /// Name of the execution (AWS generates one when omitted).
    #[arg(long)]
    name: Option<String>,
    /// Region; must be the region of the state machine's ARN.
    #[arg(long)]
    region: Option<String>,
    /// AWS X-Ray trace header.
    #[arg(long)]
    trace_header: Option<String>,
    /// Custom endpoint, e.g. http://127.0.0.1:4566 (the only non-AWS host the sandbox may reach).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Use the FIPS endpoint.
    #[arg(long)]
    fips: bool,
    /// Use the dual-stack endpoint.
    #[arg(long)]
    dual_stack: bool,
    /// Run this component instead of the embedded one.
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
    /// Print the signed request as JSON instead of sending it (session token redacted).
    #[arg(long, conflicts_with = "validate_only")]
    dry_run: bool,
    /// Signing time for --dry-run, RFC 3339 in UTC (e.g. 2015-08-30T12:36:00Z).
    #[arg(long, requires = "dry_run", value_name = "RFC3339", value_parser = parse_time)]
    signing_time: Option<SystemTime>,
    /// Only check the arguments; send nothing.
    #[arg(long)]
    validate_only: bool,
}

fn parse_time(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339(text).map_err(|e| format!("{e} (expected e.g. 2015-08-30T12:36:00Z)"))
}

/// Exit statuses: 0 started (or valid), 2 invalid arguments, 1 anything else.
const INVALID: u8 = 2;
const FAILED: u8 = 1;

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    match runtime.block_on(run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(FAILED)
        }
    }
}

async fn run(args: Args) -> Result<u8> {
    let config = match start_config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(INVALID);
        }
    };
    let mut host = HostConfig::from_process_env();
    if let Some(url) = &args.endpoint_url {
        host.allow_endpoint(url);
    }
    host.wall_clock = args.signing_time;
    let runtime = match &args.component {
        Some(path) => Runtime::from_file(path, host)?,
        None => Runtime::new(host)?,
    };
    let options = ClientOptions {
        credentials: None,
        endpoint_url: args.endpoint_url.clone(),
        use_fips: args.fips,
        use_dual_stack: args.dual_stack,
    };
    if args.validate_only {
        return Ok(match runtime.validate(&config).await? {
            Ok(()) => {
                eprintln!("The arguments are valid.");
                0
            }
            Err(errors) => report(&config, Error::InvalidConfig(errors)),
        });
    }
    if args.dry_run {
        return Ok(match runtime.prepare(&config, &options).await? {
            Ok(request) => {
                print_json(&dry_run_json(&request))?;
                0
            }
            Err(e) => report(&config, e),
        });
    }
    eprintln!(
        "Starting execution for state machine {}...",
        config.state_machine_arn
    );
    Ok(match runtime.start(&config, &options).await? {
        Ok(execution) => {
            eprintln!(
                "Execution started successfully with ARN {}",
                execution.execution_arn
            );
            print_json(&serde_json::json!({
                "executionArn": execution.execution_arn,
                "startDate": rfc3339_ms(execution.start_date_epoch_ms),
                "requestId": execution.request_id,
            }))?;
            0
        }
        Err(e) => report(&config, e),
    })
}

fn start_config(args: &Args) -> Result<StartExecutionConfig> {
    Ok(StartExecutionConfig {
        state_machine_arn: args.state_machine_arn.clone(),
        input: args.input.as_deref().map(read_input).transpose()?,
        name: args.name.clone(),
        region: args.region.clone(),
        trace_header: args.trace_header.clone(),
    })
}

/// `--input` as text, `@file` or `-` (standard input).
fn read_input(value: &str) -> Result<String> {
    if value == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("--input -: standard input is not readable UTF-8 text")?;
        return Ok(text);
    }
    match value.strip_prefix('@') {
        Some("") => bail!("--input @: name a file after the @"),
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("--input @{path}: cannot read the file as UTF-8 text")),
        None => Ok(value.to_string()),
    }
}

/// Prints an error the way the Terraform action words it, one field error a line, and
/// returns the exit status.
fn report(config: &StartExecutionConfig, error: Error) -> u8 {
    let arn = &config.state_machine_arn;
    match error {
        Error::InvalidConfig(errors) => {
            eprintln!("error: invalid arguments:");
            for e in errors {
                eprintln!("  {}: {}", e.field, e.message);
            }
            return INVALID;
        }
        Error::MissingCredentials(m) => eprintln!("error: missing credentials: {m}"),
        Error::Service(e) => {
            let request_id = e.request_id.as_deref().unwrap_or("none");
            eprintln!(
                "error: could not start execution for state machine {arn}: {}: {} (HTTP {}, request id {request_id})",
                e.code, e.message, e.status
            );
        }
        Error::Transport(m) => {
            eprintln!("error: could not start execution for state machine {arn}: {m}")
        }
        Error::InvalidResponse(m) => eprintln!(
            "error: could not start execution for state machine {arn}: invalid response: {m}"
        ),
    }
    FAILED
}

/// The signed request with the session token hidden: it is a credential.
fn dry_run_json(request: &SignedRequest) -> serde_json::Value {
    let headers: serde_json::Map<String, serde_json::Value> = request
        .headers
        .iter()
        .map(|(k, v)| {
            let shown = if k == "x-amz-security-token" {
                "<redacted>"
            } else {
                v.as_str()
            };
            (k.clone(), shown.into())
        })
        .collect();
    serde_json::json!({
        "method": request.method,
        "url": request.url,
        "headers": headers,
        "body": request.body,
    })
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Epoch milliseconds as RFC 3339 with milliseconds, in UTC.
fn rfc3339_ms(ms: i64) -> String {
    let time = if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms as u64)
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    };
    humantime::format_rfc3339_millis(time).to_string()
}
