//! The plugin's exports: `sfn:action/start-execution`, over the core with the environment
//! and transport of `transport` and the wall clock (`wasi:clocks/wall-clock`, through std).

use std::time::SystemTime;

use crate::transport::{env_lookup, send};
use crate::{Credentials, Error, Execution, FieldError, Options, SignedRequest};

wit_bindgen::generate!({
    path: "../wit",
    world: "plugin",
});

use exports::sfn::action::start_execution as wit;

struct Component;

impl wit::Guest for Component {
    fn validate(config: wit::StartExecutionConfig) -> Result<(), Vec<wit::FieldError>> {
        crate::validate(&config.into())
            .map(|_| ())
            .map_err(|errors| errors.into_iter().map(Into::into).collect())
    }

    fn prepare(
        config: wit::StartExecutionConfig,
        options: wit::ClientOptions,
    ) -> Result<wit::SignedRequest, wit::Error> {
        crate::prepare(
            &config.into(),
            &options.into(),
            &env_lookup(),
            SystemTime::now(),
        )
        .map(Into::into)
        .map_err(Into::into)
    }

    fn start(
        config: wit::StartExecutionConfig,
        options: wit::ClientOptions,
    ) -> Result<wit::Execution, wit::Error> {
        let now = SystemTime::now();
        crate::start(&config.into(), &options.into(), &env_lookup(), now, send)
            .map(Into::into)
            .map_err(Into::into)
    }
}

export!(Component);

impl From<wit::StartExecutionConfig> for crate::Config {
    fn from(c: wit::StartExecutionConfig) -> Self {
        Self {
            state_machine_arn: c.state_machine_arn,
            input: c.input,
            name: c.name,
            region: c.region,
            trace_header: c.trace_header,
        }
    }
}

impl From<wit::ClientOptions> for Options {
    fn from(o: wit::ClientOptions) -> Self {
        Self {
            credentials: o.credentials.map(|c| Credentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                session_token: c.session_token,
            }),
            endpoint_url: o.endpoint_url,
            use_fips: o.use_fips,
            use_dual_stack: o.use_dual_stack,
        }
    }
}

impl From<FieldError> for wit::FieldError {
    fn from(e: FieldError) -> Self {
        Self {
            field: e.field,
            message: e.message,
        }
    }
}

impl From<SignedRequest> for wit::SignedRequest {
    fn from(r: SignedRequest) -> Self {
        Self {
            method: r.method,
            url: r.url,
            headers: r.headers,
            body: r.body,
        }
    }
}

impl From<Execution> for wit::Execution {
    fn from(e: Execution) -> Self {
        Self {
            execution_arn: e.execution_arn,
            start_date_epoch_ms: e.start_date_epoch_ms,
            request_id: e.request_id,
        }
    }
}

impl From<Error> for wit::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidConfig(errors) => {
                Self::InvalidConfig(errors.into_iter().map(Into::into).collect())
            }
            Error::MissingCredentials(m) => Self::MissingCredentials(m),
            Error::Service(s) => Self::Service(exports::sfn::action::types::ServiceError {
                status: s.status,
                code: s.code,
                message: s.message,
                request_id: s.request_id,
            }),
            Error::Transport(m) => Self::Transport(m),
            Error::InvalidResponse(m) => Self::InvalidResponse(m),
        }
    }
}
