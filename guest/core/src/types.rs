//! The records and variants of the WIT interface `sfn:action/types`, the one Rust definition
//! of each: the core speaks them, the plugin exports them (wit-bindgen's `with`), and the
//! host lifts and lowers them (its `exports` module, using the derives that the `wasmtime`
//! feature turns on). A field added to the WIT is added here and nowhere else.
//!
//! The docs are the WIT's; names follow it in Rust's case.

use std::fmt;

#[cfg(feature = "wasmtime")]
use wasmtime::component::{ComponentType, Lift, Lower};

/// The arguments of Terraform's `aws_sfn_start_execution` action, with the same names. Field
/// errors name them in Terraform's snake_case (`state_machine_arn`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct StartExecutionConfig {
    /// ARN of the state machine: unqualified, version-qualified (`...:stateMachine:name:10`)
    /// or alias-qualified (`...:stateMachine:name:PROD`). The request always goes to the
    /// region named in this ARN.
    #[cfg_attr(feature = "wasmtime", component(name = "state-machine-arn"))]
    pub state_machine_arn: String,
    /// JSON input for the execution, sent byte for byte as given. Absent means `{}`.
    pub input: Option<String>,
    /// Name of the execution (1 to 80 Unicode scalar values). Absent, `start` names it with a
    /// random UUID (version 4) before its first attempt, so that a retry can never start a
    /// second execution; `prepare` leaves it absent and AWS picks one.
    pub name: Option<String>,
    /// Region override. When given it must equal the region of `state_machine_arn`.
    pub region: Option<String>,
    /// AWS X-Ray trace header (ASCII, at most 256 characters).
    #[cfg_attr(feature = "wasmtime", component(name = "trace-header"))]
    pub trace_header: Option<String>,
}

/// AWS credentials. `Debug` shows the access key id only, never the secret or the token.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct Credentials {
    /// The access key id, for example `AKIA...` or `ASIA...`.
    #[cfg_attr(feature = "wasmtime", component(name = "access-key-id"))]
    pub access_key_id: String,
    /// The secret access key.
    #[cfg_attr(feature = "wasmtime", component(name = "secret-access-key"))]
    pub secret_access_key: String,
    /// The session token of temporary credentials.
    #[cfg_attr(feature = "wasmtime", component(name = "session-token"))]
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How to reach and authenticate to Step Functions. Each field left out falls back to the
/// standard AWS environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct ClientOptions {
    /// Explicit credentials; else `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
    /// `AWS_SESSION_TOKEN`.
    pub credentials: Option<Credentials>,
    /// A custom endpoint such as `http://127.0.0.1:4566`; else `AWS_ENDPOINT_URL_SFN`, else
    /// `AWS_ENDPOINT_URL`. Only a custom endpoint may use plain `http`.
    #[cfg_attr(feature = "wasmtime", component(name = "endpoint-url"))]
    pub endpoint_url: Option<String>,
    /// Use the FIPS endpoint of the region (not allowed with a custom endpoint).
    #[cfg_attr(feature = "wasmtime", component(name = "use-fips"))]
    pub use_fips: bool,
    /// Use the dual-stack endpoint of the region (not allowed with a custom endpoint).
    #[cfg_attr(feature = "wasmtime", component(name = "use-dual-stack"))]
    pub use_dual_stack: bool,
    /// Requests a call may send, the first included (1 means no retry); else
    /// `AWS_MAX_ATTEMPTS`, else 3.
    #[cfg_attr(feature = "wasmtime", component(name = "max-attempts"))]
    pub max_attempts: Option<u32>,
    /// Bound on a call (`start`, `start-sync`, `describe`, or each of `wait`'s polls),
    /// retries and backoff included, in milliseconds; else none beyond each attempt's own.
    #[cfg_attr(feature = "wasmtime", component(name = "timeout-ms"))]
    pub timeout_ms: Option<u64>,
}

/// One broken rule, named by the Terraform argument or client option at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct FieldError {
    /// The argument or option at fault: `state_machine_arn`, `input`, `name`, `region`,
    /// `trace_header`, `credentials`, `endpoint_url`, `use_fips`, `use_dual_stack`,
    /// `max_attempts` or `timeout_ms`.
    pub field: String,
    /// What rule it broke, in words.
    pub message: String,
}

/// An error answered by Step Functions (or by whatever stood at the endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct ServiceError {
    /// HTTP status code.
    pub status: u16,
    /// The error code, sanitized as the AWS SDKs do; for a body that names no code, one made
    /// from the HTTP status, such as `ServiceUnavailable`.
    pub code: String,
    /// The service's message, or a short description of the body when it had none.
    pub message: String,
    /// The `x-amzn-RequestId` of the response, when there was one.
    #[cfg_attr(feature = "wasmtime", component(name = "request-id"))]
    pub request_id: Option<String>,
}

/// Why an execution was not started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(variant)
)]
pub enum Error {
    /// The arguments or options break the rules; every broken rule is listed. Nothing was sent.
    #[cfg_attr(feature = "wasmtime", component(name = "invalid-config"))]
    InvalidConfig(Vec<FieldError>),
    /// No credentials were given or found; the message names the environment variables read.
    #[cfg_attr(feature = "wasmtime", component(name = "missing-credentials"))]
    MissingCredentials(String),
    /// Step Functions answered with an error.
    #[cfg_attr(feature = "wasmtime", component(name = "service"))]
    Service(ServiceError),
    /// The request could not be sent or its answer not received, or the call's timeout
    /// passed (the message names it).
    #[cfg_attr(feature = "wasmtime", component(name = "transport"))]
    Transport(String),
    /// A 2xx answer whose body is not a result of the operation.
    #[cfg_attr(feature = "wasmtime", component(name = "invalid-response"))]
    InvalidResponse(String),
}

/// Why a call failed, and how many requests it sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct Failure {
    /// The error of the last attempt (or of the arguments, with no attempt).
    pub error: Error,
    /// Requests sent (StartExecution, StartSyncExecution or DescribeExecution): 0 when the
    /// arguments or credentials were refused.
    pub attempts: u32,
    /// `start` only: the ARN of the execution an attempt may have started although the call
    /// failed (an answer lost, cut short, late, unreadable, or a server error). Check it with
    /// DescribeExecution; starting again with the same name cannot start a second execution
    /// of a STANDARD state machine.
    #[cfg_attr(feature = "wasmtime", component(name = "maybe-started"))]
    pub maybe_started: Option<String>,
}

/// A started execution.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct Execution {
    /// ARN of the execution. Treat it as opaque: standard and express ARNs differ in shape.
    #[cfg_attr(feature = "wasmtime", component(name = "execution-arn"))]
    pub execution_arn: String,
    /// When the execution started, in milliseconds since the Unix epoch.
    #[cfg_attr(feature = "wasmtime", component(name = "start-date-epoch-ms"))]
    pub start_date_epoch_ms: i64,
    /// The `x-amzn-RequestId` of the response, when there was one.
    #[cfg_attr(feature = "wasmtime", component(name = "request-id"))]
    pub request_id: Option<String>,
    /// StartExecution requests sent: 1 unless an attempt was retried.
    pub attempts: u32,
}

/// A signed request, ready to be sent by any HTTP client. `Debug` withholds the session
/// token.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct SignedRequest {
    /// Always `POST`.
    pub method: String,
    /// The endpoint URL, ending in `/`.
    pub url: String,
    /// Every header to send, `host` and `content-length` included, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The JSON body, byte for byte as signed.
    pub body: String,
}

impl SignedRequest {
    /// The header that carries the session token, a credential.
    pub const SECURITY_TOKEN: &'static str = "x-amz-security-token";

    /// The headers as they may be shown: the session token's value withheld.
    pub fn shown_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(name, value)| {
            let token = name.eq_ignore_ascii_case(Self::SECURITY_TOKEN);
            (
                name.as_str(),
                if token { "<redacted>" } else { value.as_str() },
            )
        })
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.shown_headers().collect::<Vec<_>>())
            .field("body", &self.body)
            .finish()
    }
}

/// What an express execution was billed for (StartSyncExecution only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct BillingDetails {
    /// Memory billed, in MB.
    #[cfg_attr(feature = "wasmtime", component(name = "billed-memory-used-mb"))]
    pub billed_memory_used_mb: u64,
    /// Duration billed, in milliseconds.
    #[cfg_attr(feature = "wasmtime", component(name = "billed-duration-ms"))]
    pub billed_duration_ms: u64,
}

/// An execution's status and, once it has ended, its result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "wasmtime",
    derive(ComponentType, Lift, Lower),
    component(record)
)]
pub struct Outcome {
    /// ARN of the execution.
    #[cfg_attr(feature = "wasmtime", component(name = "execution-arn"))]
    pub execution_arn: String,
    /// As the service names it: `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED` or
    /// `PENDING_REDRIVE` (a string, so that a status added later still comes through).
    pub status: String,
    /// When the execution started, in milliseconds since the Unix epoch.
    #[cfg_attr(feature = "wasmtime", component(name = "start-date-epoch-ms"))]
    pub start_date_epoch_ms: i64,
    /// When it ended, in milliseconds since the Unix epoch; absent while it runs.
    #[cfg_attr(feature = "wasmtime", component(name = "stop-date-epoch-ms"))]
    pub stop_date_epoch_ms: Option<i64>,
    /// The JSON output, byte for byte as the service returned it (on success).
    pub output: Option<String>,
    /// The error code a failed execution ended with.
    pub error: Option<String>,
    /// The cause of that error, in words.
    pub cause: Option<String>,
    /// What an express execution was billed for (StartSyncExecution only).
    pub billing: Option<BillingDetails>,
    /// The `x-amzn-RequestId` of the answer this outcome came from, when there was one.
    #[cfg_attr(feature = "wasmtime", component(name = "request-id"))]
    pub request_id: Option<String>,
    /// Requests this call sent, retries included.
    pub attempts: u32,
}

impl Outcome {
    /// Whether the execution is still under way: `RUNNING`, or `PENDING_REDRIVE` (a redrive
    /// about to run it again).
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "RUNNING" | "PENDING_REDRIVE")
    }
}
