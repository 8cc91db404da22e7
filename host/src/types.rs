//! The records and variants of `sfn:action/types`, written out by hand (instead of by
//! `bindgen!`) so that they compare with `==` and so that `Debug` never shows a secret.
//! The component model checks at link time that they match the WIT exactly.

use std::fmt;

use wasmtime::component::{ComponentType, Lift, Lower};

/// The arguments of Terraform's `aws_sfn_start_execution` action.
#[derive(ComponentType, Lift, Lower, Clone, Debug, Default, PartialEq, Eq)]
#[component(record)]
pub struct StartExecutionConfig {
    #[component(name = "state-machine-arn")]
    pub state_machine_arn: String,
    pub input: Option<String>,
    pub name: Option<String>,
    pub region: Option<String>,
    #[component(name = "trace-header")]
    pub trace_header: Option<String>,
}

/// AWS credentials; `Debug` shows only the access key id.
#[derive(ComponentType, Lift, Lower, Clone, PartialEq, Eq)]
#[component(record)]
pub struct Credentials {
    #[component(name = "access-key-id")]
    pub access_key_id: String,
    #[component(name = "secret-access-key")]
    pub secret_access_key: String,
    #[component(name = "session-token")]
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has_token = self.session_token.is_some();
        sfn_start_execution::credentials::debug_redacted(f, &self.access_key_id, has_token)
    }
}

/// How to reach and authenticate to Step Functions.
#[derive(ComponentType, Lift, Lower, Clone, Debug, Default, PartialEq, Eq)]
#[component(record)]
pub struct ClientOptions {
    pub credentials: Option<Credentials>,
    #[component(name = "endpoint-url")]
    pub endpoint_url: Option<String>,
    #[component(name = "use-fips")]
    pub use_fips: bool,
    #[component(name = "use-dual-stack")]
    pub use_dual_stack: bool,
}

/// One broken rule, named by the Terraform argument (or client option) at fault.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An error answered by Step Functions.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct ServiceError {
    pub status: u16,
    pub code: String,
    pub message: String,
    #[component(name = "request-id")]
    pub request_id: Option<String>,
}

/// Why an execution was not started.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(variant)]
pub enum Error {
    #[component(name = "invalid-config")]
    InvalidConfig(Vec<FieldError>),
    #[component(name = "missing-credentials")]
    MissingCredentials(String),
    #[component(name = "service")]
    Service(ServiceError),
    #[component(name = "transport")]
    Transport(String),
    #[component(name = "invalid-response")]
    InvalidResponse(String),
}

/// A started execution.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct Execution {
    #[component(name = "execution-arn")]
    pub execution_arn: String,
    #[component(name = "start-date-epoch-ms")]
    pub start_date_epoch_ms: i64,
    #[component(name = "request-id")]
    pub request_id: Option<String>,
}

/// A signed request, ready to be sent by any HTTP client.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
#[component(record)]
pub struct SignedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

// The same values in the guest core's types, which `sfn-cli` (and any embedder using the
// core directly) speaks.
use sfn_start_execution as guest;

impl From<&guest::Config> for StartExecutionConfig {
    fn from(c: &guest::Config) -> Self {
        Self {
            state_machine_arn: c.state_machine_arn.clone(),
            input: c.input.clone(),
            name: c.name.clone(),
            region: c.region.clone(),
            trace_header: c.trace_header.clone(),
        }
    }
}

impl From<&guest::Options> for ClientOptions {
    fn from(o: &guest::Options) -> Self {
        Self {
            credentials: o.credentials.as_ref().map(|c| Credentials {
                access_key_id: c.access_key_id.clone(),
                secret_access_key: c.secret_access_key.clone(),
                session_token: c.session_token.clone(),
            }),
            endpoint_url: o.endpoint_url.clone(),
            use_fips: o.use_fips,
            use_dual_stack: o.use_dual_stack,
        }
    }
}

impl From<FieldError> for guest::FieldError {
    fn from(e: FieldError) -> Self {
        Self {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<Error> for guest::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidConfig(errors) => {
                Self::InvalidConfig(errors.into_iter().map(Into::into).collect())
            }
            Error::MissingCredentials(m) => Self::MissingCredentials(m),
            Error::Service(e) => Self::Service(guest::ServiceError {
                status: e.status,
                code: e.code,
                message: e.message,
                request_id: e.request_id,
            }),
            Error::Transport(m) => Self::Transport(m),
            Error::InvalidResponse(m) => Self::InvalidResponse(m),
        }
    }
}

impl From<Execution> for guest::Execution {
    fn from(e: Execution) -> Self {
        Self {
            execution_arn: e.execution_arn,
            start_date_epoch_ms: e.start_date_epoch_ms,
            request_id: e.request_id,
        }
    }
}

impl From<SignedRequest> for guest::SignedRequest {
    fn from(r: SignedRequest) -> Self {
        Self {
            method: r.method,
            url: r.url,
            headers: r.headers,
            body: r.body,
        }
    }
}
