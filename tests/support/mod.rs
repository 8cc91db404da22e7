//! Shared by the end-to-end tests: the Step Functions stand-in, its independent SigV4
//! verifier, and a runtime whose component is compiled once per test binary.

#![allow(dead_code)]

pub mod peers;
pub mod rng;
pub mod sigv4;
pub mod standin;

use std::sync::OnceLock;

use sfn_host::{ClientOptions, HostConfig, Runtime, StartExecutionConfig};

pub const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld";
pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const TOKEN: &str = "FQoGZXIvYXdzEXAMPLETOKEN+/=";
pub const EXECUTION_ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run-1";

/// The embedded component, compiled once; each test reconfigures it.
pub fn runtime(config: HostConfig) -> Runtime {
    static BASE: OnceLock<Runtime> = OnceLock::new();
    BASE.get_or_init(|| Runtime::new(HostConfig::default()).expect("the component loads"))
        .with_config(config)
        .expect("a valid host configuration")
}

/// A host that gives the component these credentials and allows `endpoint`.
pub fn host(endpoint: &str, token: Option<&str>) -> HostConfig {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), AKID.to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), SECRET.to_string()),
    ];
    if let Some(token) = token {
        env.push(("AWS_SESSION_TOKEN".to_string(), token.to_string()));
    }
    HostConfig {
        env,
        allowed_endpoint: Some(endpoint.to_string()),
        ..HostConfig::default()
    }
}

pub fn config(arn: &str) -> StartExecutionConfig {
    StartExecutionConfig {
        state_machine_arn: arn.to_string(),
        input: None,
        name: None,
        region: None,
        trace_header: None,
    }
}

pub fn options(endpoint: Option<&str>) -> ClientOptions {
    ClientOptions {
        credentials: None,
        endpoint_url: endpoint.map(str::to_string),
        use_fips: false,
        use_dual_stack: false,
    }
}
