//! Runs the `sfn:action` StartExecution component under wasmtime.
//!
//! Engine, linker and pre-instantiation are done once in [`Runtime::new`]; every call gets a
//! fresh store with its own memory limit, deadline, environment and outbound policy.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use sfn_host::{ClientOptions, HostConfig, Runtime, StartExecutionConfig};
//! let runtime = Runtime::new(HostConfig::from_process_env())?;
//! let config = StartExecutionConfig {
//!     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:Hello".into(),
//!     input: Some(r#"{"id":1}"#.into()),
//!     ..StartExecutionConfig::default()
//! };
//! let options = ClientOptions::default(); // credentials and endpoint from the environment
//! match runtime.start(&config, &options).await? {
//!     Ok(execution) => println!("{}", execution.execution_arn),
//!     Err(error) => eprintln!("{error:?}"),
//! }
//! # Ok(()) }
//! ```

pub mod policy;
mod runtime;
pub mod types;

pub use policy::Policy;
pub use runtime::{HostConfig, Runtime};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "plugin",
        exports: { default: async },
        with: { "sfn:action/types": crate::types },
    });
}

pub use types::{
    ClientOptions, Credentials, Error, Execution, FieldError, ServiceError, SignedRequest,
    StartExecutionConfig,
};

/// The component built from `guest/` by the build script.
pub static COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sfn_start_execution.wasm"));

/// The only variables of the host's environment the component is given.
pub const FORWARDED_VARIABLES: [&str; 5] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL_SFN",
    "AWS_ENDPOINT_URL",
];
