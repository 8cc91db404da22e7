//! The end-to-end tests' kit: the Step Functions stand-in, its independent SigV4 verifier,
//! a model of the service's executions, a proxy that loses answers, a small server for
//! fakes of credential endpoints, the third-party peers and the fixtures every layer reads.
//! Nothing here knows the component or wasmtime, so its own tests run once, in this crate.

pub mod fixtures;
pub mod listening;
pub mod peers;
pub mod proxy;
pub mod server;
pub mod service;
pub mod sigv4;
pub mod standin;

pub const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld";
pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const TOKEN: &str = "FQoGZXIvYXdzEXAMPLETOKEN+/=";
pub const EXECUTION_ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run-1";
