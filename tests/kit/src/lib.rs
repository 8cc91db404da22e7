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

/// How many generated cases a test runs: the environment `variable` if set, else
/// `default`. A count of 0, or one that is not a number, fails the test that asked, naming
/// the variable: such a test would otherwise pass having checked nothing.
pub fn case_count(variable: &str, default: u64) -> u64 {
    let value = std::env::var_os(variable).map(|v| v.to_string_lossy().into_owned());
    parse_case_count(variable, value.as_deref(), default).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_case_count(variable: &str, value: Option<&str>, default: u64) -> Result<u64, String> {
    let Some(value) = value else {
        return Ok(default);
    };
    match value.trim().parse::<u64>() {
        Ok(0) => Err(format!(
            "{variable}=0 would run no case and pass having checked nothing: set a positive \
             count, or unset it for {default}"
        )),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("{variable}={value:?} is not a number of cases")),
    }
}

/// The standard mode's codes and statuses, written out here once from the AWS SDKs'
/// documentation (botocore's `retries/standard.py`, aws-sdk-go-v2's `retry` package) and
/// never from the core's constants: the core's tests and the end-to-end faults compare the
/// two.
pub mod standard_retry {
    pub const THROTTLING: [&str; 14] = [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    ];
    pub const TIMEOUT: [&str; 2] = ["RequestTimeout", "RequestTimeoutException"];
    pub const STATUSES: [u16; 5] = [429, 500, 502, 503, 504];
    /// Codes one edit away from a listed one, which must not be retried.
    pub const NEAR_MISSES: [&str; 10] = [
        "throttlingexception",
        "ThrottlingExceptio",
        "ThrottlingException ",
        " Throttling",
        "Throttled",
        "KmsThrottlingException",
        "RequestTimeOut",
        "RequestTimeoutExceptions",
        "Slowdown",
        "LimitExceeded",
    ];

    /// Whether the standard mode retries an answered error, by the lists above.
    pub fn retries(status: u16, code: &str) -> bool {
        THROTTLING.contains(&code) || TIMEOUT.contains(&code) || STATUSES.contains(&status)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_case_count;

    #[test]
    fn a_case_count_of_zero_or_not_a_number_is_refused_naming_the_variable() {
        assert_eq!(parse_case_count("CASES", None, 7), Ok(7));
        assert_eq!(parse_case_count("CASES", Some("12"), 7), Ok(12));
        for refused in ["0", " 0", "", "many", "-1"] {
            let error = parse_case_count("CASES", Some(refused), 7).unwrap_err();
            assert!(error.starts_with("CASES="), "{refused:?}: {error}");
        }
    }
}
