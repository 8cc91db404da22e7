//! The plugin component: exports `sfn:action/start-execution` over the core, with the
//! environment and the clocks, randomness and transport of `sfn_core::transport`. The WIT's types are the core's own (`with`), so
//! nothing is converted on the way in or out.
//!
//! Natively this crate is empty: it is a component and nothing else.

#![cfg(target_family = "wasm")]

use std::time::{Duration, SystemTime};

use sfn_core::transport::{Wasi, env_lookup};
use sfn_core::{
    ClientOptions, Error, Execution, Failure, FieldError, Outcome, SignedRequest,
    StartExecutionConfig,
};

wit_bindgen::generate!({
    path: "../../wit",
    world: "plugin",
    // Each WIT type is the core's own: wit-bindgen lifts and lowers it field by field.
    // The keys carry the package version: bump them with the WIT's.
    with: {
        "sfn:action/types@0.2.0/start-execution-config": sfn_core::StartExecutionConfig,
        "sfn:action/types@0.2.0/credentials": sfn_core::Credentials,
        "sfn:action/types@0.2.0/client-options": sfn_core::ClientOptions,
        "sfn:action/types@0.2.0/field-error": sfn_core::FieldError,
        "sfn:action/types@0.2.0/service-error": sfn_core::ServiceError,
        "sfn:action/types@0.2.0/error": sfn_core::Error,
        "sfn:action/types@0.2.0/failure": sfn_core::Failure,
        "sfn:action/types@0.2.0/execution": sfn_core::Execution,
        "sfn:action/types@0.2.0/billing-details": sfn_core::BillingDetails,
        "sfn:action/types@0.2.0/outcome": sfn_core::Outcome,
        "sfn:action/types@0.2.0/signed-request": sfn_core::SignedRequest,
    },
});

struct Component;

impl exports::sfn::action::start_execution::Guest for Component {
    fn validate(config: StartExecutionConfig) -> Result<(), Vec<FieldError>> {
        sfn_core::validate(&config)
    }

    fn prepare(
        config: StartExecutionConfig,
        options: ClientOptions,
    ) -> Result<SignedRequest, Error> {
        sfn_core::prepare(&config, &options, &env_lookup(), SystemTime::now())
    }

    fn start(config: StartExecutionConfig, options: ClientOptions) -> Result<Execution, Failure> {
        sfn_core::start(&config, &options, &env_lookup(), &mut Wasi)
    }

    fn prepare_sync(
        config: StartExecutionConfig,
        options: ClientOptions,
    ) -> Result<SignedRequest, Error> {
        sfn_core::prepare_sync(&config, &options, &env_lookup(), SystemTime::now())
    }

    fn start_sync(
        config: StartExecutionConfig,
        options: ClientOptions,
    ) -> Result<Outcome, Failure> {
        sfn_core::start_sync(&config, &options, &env_lookup(), &mut Wasi)
    }

    fn describe(execution_arn: String, options: ClientOptions) -> Result<Outcome, Failure> {
        sfn_core::describe(&execution_arn, &options, &env_lookup(), &mut Wasi)
    }

    fn wait(
        execution_arn: String,
        options: ClientOptions,
        max_wait_ms: u64,
    ) -> Result<Outcome, Failure> {
        let max_wait = Duration::from_millis(max_wait_ms);
        sfn_core::wait(&execution_arn, &options, &env_lookup(), &mut Wasi, max_wait)
    }
}

export!(Component);
