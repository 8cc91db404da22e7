//! The "standard" retry mode of the AWS SDKs (spec §5): which failures are retried, how long
//! to wait before the next attempt, and how many attempts and how much time a call has.

use std::time::Duration;

use crate::types::{ClientOptions, Error, FieldError, ServiceError};

/// Attempts per call, the first included, when nothing says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// The variable the AWS SDKs and CLI read for the number of attempts.
pub const MAX_ATTEMPTS_VARIABLE: &str = "AWS_MAX_ATTEMPTS";

/// The backoff's first ceiling, doubled per attempt up to [`MAX_BACKOFF`].
const BASE: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// The throttling codes of the standard mode (aws-sdk-go-v2's list, as botocore's).
pub const THROTTLING_CODES: [&str; 14] = [
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
/// Codes of a request that timed out on the service's side.
pub const TIMEOUT_CODES: [&str; 2] = ["RequestTimeout", "RequestTimeoutException"];
/// Statuses of a failure in front of or inside the service, whatever the code. 429 is
/// throttling without a code.
pub const TRANSIENT_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

/// How many attempts a call may make, and within how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub max_attempts: u32,
    pub timeout: Option<Duration>,
}

/// The plan of the options, else of `AWS_MAX_ATTEMPTS`, else the default; every broken rule
/// is reported.
pub fn plan(
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, Vec<FieldError>> {
    let mut errors = Vec::new();
    let max_attempts = match options.max_attempts {
        Some(0) => {
            errors.push(FieldError::new(
                "max_attempts",
                "must be at least 1 (1 means no retry)",
            ));
            0
        }
        Some(n) => n,
        None => match env(MAX_ATTEMPTS_VARIABLE).filter(|v| !v.is_empty()) {
            None => DEFAULT_MAX_ATTEMPTS,
            Some(text) => text.parse().ok().filter(|&n| n >= 1).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "max_attempts",
                    format!(
                        "{MAX_ATTEMPTS_VARIABLE} is {text:?}: it must be a whole number, at least 1"
                    ),
                ));
                0
            }),
        },
    };
    if options.timeout_ms == Some(0) {
        errors.push(FieldError::new(
            "timeout_ms",
            "must be more than 0 milliseconds",
        ));
    }
    let plan = Plan {
        max_attempts,
        timeout: options.timeout_ms.map(Duration::from_millis),
    };
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors)
    }
}

/// Whether an answered error may go away by itself: throttling, a request timeout, or a
/// failure of the service or of what stands in front of it. A validation, access or
/// conflict error is the same on every attempt.
pub fn is_transient(error: &ServiceError) -> bool {
    let code = error.code.as_str();
    THROTTLING_CODES.contains(&code)
        || TIMEOUT_CODES.contains(&code)
        || TRANSIENT_STATUSES.contains(&error.status)
}

/// Whether to try again after an attempt's `error`: any retryable one when the request may
/// be sent twice (`replayable`), else only a refusal. A service error is judged by the code
/// its answer `named`, as the SDKs judge it: a code made up from the status (a bare 408
/// becomes `RequestTimeout`) is for people, not for this decision.
pub fn after(error: &Error, named: Option<&str>, replayable: bool) -> bool {
    let judged;
    let error = match error {
        Error::Service(e) => {
            let code = named.unwrap_or_default().to_string();
            judged = Error::Service(ServiceError { code, ..e.clone() });
            &judged
        }
        other => other,
    };
    if replayable {
        is_retryable(error)
    } else {
        is_refusal(error)
    }
}

/// Whether the call may try again after `error`.
pub fn is_retryable(error: &Error) -> bool {
    matches!(error, Error::Service(e) if is_transient(e))
}

/// Whether `error` says the request was refused unprocessed (throttled), so that even a
/// request that must not run twice may be sent again.
pub fn is_refusal(error: &Error) -> bool {
    matches!(error, Error::Service(e) if THROTTLING_CODES.contains(&e.code.as_str()) || e.status == 429)
}

/// The wait before attempt `attempts + 1`, full jitter:
/// `random[0,1) × min(1 s × 2^(attempts−1), 20 s)`, with the fraction taken from `bits`.
pub fn backoff(attempts: u32, bits: u64) -> Duration {
    let ceiling = BASE
        .checked_mul(1 << attempts.saturating_sub(1).min(31))
        .map_or(MAX_BACKOFF, |d| d.min(MAX_BACKOFF));
    // The top 53 bits as a fraction in [0, 1): every value exactly representable.
    let fraction = (bits >> 11) as f64 / (1u64 << 53) as f64;
    ceiling.mul_f64(fraction)
}

#[cfg(test)]
pub(crate) use sfn_test_kit::standard_retry as standard;

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16, code: &str) -> ServiceError {
        ServiceError {
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
        }
    }

    #[test]
    fn an_answer_is_judged_by_the_code_it_named_not_one_made_from_its_status() {
        // A bare 408 shows as `RequestTimeout`, but no SDK retries a 408 that named nothing.
        let bare = Error::Service(service(408, "RequestTimeout"));
        assert!(!after(&bare, None, true));
        assert!(after(&bare, Some("RequestTimeout"), true));
        // Statuses still count on their own: a 503 that named nothing, a 429 refused.
        assert!(after(
            &Error::Service(service(503, "ServiceUnavailable")),
            None,
            true
        ));
        let throttled = Error::Service(service(429, "TooManyRequests"));
        assert!(after(&throttled, None, false));
        assert!(!after(
            &Error::Service(service(500, "InternalServerError")),
            None,
            false
        ));
    }

    #[test]
    fn the_ceiling_doubles_from_one_second_up_to_twenty() {
        let ceilings: Vec<Duration> = (1..=7).map(|n| backoff(n, u64::MAX)).collect();
        let secs: Vec<f64> = ceilings.iter().map(Duration::as_secs_f64).collect();
        let want = [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0];
        for (got, want) in secs.iter().zip(want) {
            assert!(*got <= want && want - got < 1e-6, "{secs:?}");
        }
        assert_eq!(backoff(1, 0), Duration::ZERO);
        assert_eq!(backoff(2, 1 << 63), Duration::from_secs(1));
        assert_eq!(backoff(u32::MAX, u64::MAX), backoff(6, u64::MAX));
    }

    #[test]
    fn only_transient_service_errors_are_retried() {
        for code in standard::THROTTLING {
            let error = Error::Service(service(400, code));
            assert!(is_retryable(&error) && is_refusal(&error), "{code}");
        }
        for code in standard::TIMEOUT {
            let error = Error::Service(service(400, code));
            assert!(is_retryable(&error) && !is_refusal(&error), "{code}");
        }
        for status in standard::STATUSES {
            assert!(is_transient(&service(status, "Anything")), "{status}");
        }
        assert!(is_refusal(&Error::Service(service(429, "Anything"))));
        for code in standard::NEAR_MISSES {
            assert!(!is_transient(&service(400, code)), "{code}");
        }
        for (status, code) in [
            (400, "ExecutionAlreadyExists"),
            (400, "KmsThrottlingException"),
            (400, "ExecutionLimitExceeded"),
            (400, "ValidationException"),
            (403, "AccessDeniedException"),
            (501, "NotImplemented"),
        ] {
            assert!(!is_transient(&service(status, code)), "{code}");
        }
        assert!(!is_retryable(&Error::InvalidResponse("garbage".into())));
        assert!(!is_retryable(&Error::Transport("refused".into())));
    }

    /// botocore's standard mode, read from the installed botocore at test time: each of its
    /// throttling and transient codes and statuses is classified as it classifies them, and
    /// no error Step Functions models as final is retried.
    #[test]
    fn botocore_standard_mode_classifies_alike() {
        let Some(botocore) = sfn_test_kit::peers::botocore_retry_mode() else {
            return;
        };
        let list = |key: &str| -> Vec<serde_json::Value> {
            botocore[key].as_array().cloned().unwrap_or_default()
        };
        let codes = |key| -> Vec<String> {
            list(key)
                .iter()
                .map(|c| c.as_str().expect("a code").to_string())
                .collect()
        };
        let statuses = |key| -> Vec<u16> {
            list(key)
                .iter()
                .map(|s| s.as_u64().expect("a status") as u16)
                .collect()
        };
        let (throttling, transient) = (codes("throttlingCodes"), codes("transientCodes"));
        assert!(
            throttling.len() >= 10 && !transient.is_empty(),
            "{botocore}"
        );
        for code in &throttling {
            let error = Error::Service(service(400, code));
            assert!(is_retryable(&error), "botocore retries {code}");
            assert!(is_refusal(&error), "botocore counts {code} as throttling");
        }
        for code in &transient {
            assert!(is_transient(&service(400, code)), "botocore retries {code}");
        }
        for status in statuses("transientStatuses")
            .into_iter()
            .chain(statuses("throttlingStatuses"))
        {
            assert!(
                is_transient(&service(status, "Unmodeled")),
                "botocore retries {status}"
            );
        }
        let modeled = botocore["modeled"].as_object().expect("the modeled errors");
        assert!(modeled.contains_key("ExecutionAlreadyExists"), "{botocore}");
        for (code, retryable) in modeled {
            let listed = throttling.contains(code) || transient.contains(code);
            let botocore_retries = listed || retryable.as_bool() == Some(true);
            assert_eq!(
                is_transient(&service(400, code)),
                botocore_retries,
                "{code}"
            );
        }
        // Every code the core lists is botocore's too: none misspelt, none invented.
        for code in THROTTLING_CODES {
            assert!(
                throttling.iter().any(|c| c == code),
                "{code} is not botocore's"
            );
        }
        for code in TIMEOUT_CODES {
            assert!(
                transient.iter().any(|c| c == code),
                "{code} is not botocore's"
            );
        }
    }

    #[test]
    fn attempts_come_from_the_options_then_the_environment() {
        let env = |value: &'static str| {
            move |name: &str| (name == MAX_ATTEMPTS_VARIABLE).then(|| value.to_string())
        };
        let options = ClientOptions::default();
        assert_eq!(plan(&options, &|_| None).unwrap().max_attempts, 3);
        assert_eq!(plan(&options, &env("5")).unwrap().max_attempts, 5);
        assert_eq!(plan(&options, &env("")).unwrap().max_attempts, 3);
        let given = ClientOptions {
            max_attempts: Some(1),
            timeout_ms: Some(1500),
            ..ClientOptions::default()
        };
        assert_eq!(
            plan(&given, &env("5")),
            Ok(Plan {
                max_attempts: 1,
                timeout: Some(Duration::from_millis(1500))
            })
        );
        assert_eq!(
            plan(&options, &env("lots")),
            Err(vec![FieldError::new(
                "max_attempts",
                "AWS_MAX_ATTEMPTS is \"lots\": it must be a whole number, at least 1"
            )])
        );
        let zeros = ClientOptions {
            max_attempts: Some(0),
            timeout_ms: Some(0),
            ..ClientOptions::default()
        };
        assert_eq!(
            plan(&zeros, &|_| None),
            Err(vec![
                FieldError::new("max_attempts", "must be at least 1 (1 means no retry)"),
                FieldError::new("timeout_ms", "must be more than 0 milliseconds"),
            ])
        );
    }
}
