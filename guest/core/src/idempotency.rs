//! Never two executions from one call (spec §4): every attempt carries the same name, one
//! drawn at random when the caller gave none, and an `ExecutionAlreadyExists` after a lost
//! answer is told apart from a true conflict by what DescribeExecution reports.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::wire::Described;

/// How far the `Date` header may be behind the service's clock: it counts whole seconds.
const DATE_GRANULARITY: Duration = Duration::from_secs(1);

/// A random UUID, version 4, in its hyphenated lower-case form: a valid execution name.
pub fn random_name(high: u64, low: u64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Whose the execution DescribeExecution found under this call's name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// An earlier attempt of this call started it.
    ThisCall,
    /// Someone else: it has other input, or started before this call began.
    Other,
    /// Same input, but the answer has no `Date` to tell when it started by the service's clock.
    Unknown,
}

/// Whose the described execution is. It is this call's own if it has the same input (as
/// sent, or as the same JSON value) and, by the service's own clock, started no earlier
/// than the call began: the time the answer's `Date` says has passed since `startDate` is
/// at most `running`, the time this call has run on its monotonic clock, plus the `Date`'s
/// one second. Only durations are compared, so neither clock's setting matters.
pub fn owner(described: &Described, input: &str, running: Duration) -> Owner {
    let same_input = match described.input.as_deref() {
        Some(theirs) => theirs == input || same_json(theirs, input),
        None => false,
    };
    let start_ms = described.outcome.start_date_epoch_ms;
    let limit_ms = whole_ms(running.saturating_add(DATE_GRANULARITY));
    match described.answered {
        _ if !same_input => Owner::Other,
        None => Owner::Unknown,
        Some(answered) if age_ms(answered, start_ms) <= limit_ms => Owner::ThisCall,
        Some(_) => Owner::Other,
    }
}

/// Milliseconds from `start_ms` (epoch) to `time`, negative if `time` is earlier.
fn age_ms(time: SystemTime, start_ms: i64) -> i128 {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    whole_ms(since_epoch) - i128::from(start_ms)
}

fn whole_ms(duration: Duration) -> i128 {
    i128::try_from(duration.as_millis()).unwrap_or(i128::MAX)
}

fn same_json(a: &str, b: &str) -> bool {
    let parse = |text| serde_json::from_str::<serde_json::Value>(text).ok();
    matches!((parse(a), parse(b)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When the call began, by the service's clock.
    const SERVICE_BEGAN_MS: i64 = 1_799_990_000_900;

    fn described(
        input: Option<&str>,
        start_date_epoch_ms: i64,
        answered_secs: Option<u64>,
    ) -> Described {
        Described {
            outcome: crate::Outcome {
                execution_arn: "arn".into(),
                status: "RUNNING".into(),
                start_date_epoch_ms,
                stop_date_epoch_ms: None,
                output: None,
                error: None,
                cause: None,
                billing: None,
                request_id: None,
                attempts: 1,
            },
            input: input.map(str::to_string),
            answered: answered_secs.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        }
    }

    #[test]
    fn names_are_version_4_uuids() {
        let name = random_name(u64::MAX, 0);
        assert_eq!(name, "ffffffff-ffff-4fff-8000-000000000000");
        let name = random_name(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        assert_eq!(name, "01234567-89ab-4def-bedc-ba9876543210");
        assert!(crate::name::check(&name).is_empty());
    }

    #[test]
    fn ours_when_by_the_services_clock_it_started_within_the_call() {
        let input = r#"{"a":1}"#;
        // Started 250 ms into a second; the answer, dated two seconds on, makes it 1.75 s
        // old: the call's own if the call has run 0.75 s, plus the `Date`'s one second.
        let found = described(Some(input), 1_800_000_000_250, Some(1_800_000_002));
        let ms = Duration::from_millis;
        assert_eq!(owner(&found, input, ms(750)), Owner::ThisCall);
        assert_eq!(owner(&found, input, ms(749)), Owner::Other);
        // The service may give the input back re-spaced: the same JSON value is the same.
        assert_eq!(owner(&found, r#"{"a": 1}"#, ms(750)), Owner::ThisCall);
        // A `Date` that truncates to before `startDate` (same second).
        let fresh = described(Some(input), 1_800_000_000_250, Some(1_800_000_000));
        assert_eq!(owner(&fresh, input, Duration::ZERO), Owner::ThisCall);
    }

    #[test]
    fn an_execution_started_before_the_call_by_the_services_clock_is_not_ours() {
        // The call began at SERVICE_BEGAN_MS by the service's clock and has run 0.53 s; the
        // answer came at 1.43 s past the second, dated that whole second.
        let running = Duration::from_millis(530);
        let answered = Some(1_799_990_001);
        let two_seconds_before = described(Some("{}"), SERVICE_BEGAN_MS - 2_000, answered);
        assert_eq!(owner(&two_seconds_before, "{}", running), Owner::Other);
        let just_after = described(Some("{}"), SERVICE_BEGAN_MS + 5, answered);
        assert_eq!(owner(&just_after, "{}", running), Owner::ThisCall);
    }

    #[test]
    fn without_a_date_or_with_other_input_it_is_not_ours() {
        let no_date = described(Some("{}"), SERVICE_BEGAN_MS, None);
        assert_eq!(
            owner(&no_date, "{}", Duration::from_secs(1)),
            Owner::Unknown
        );
        for other in [Some(r#"{"a":2}"#), None] {
            let found = described(other, SERVICE_BEGAN_MS, Some(1_799_990_001));
            assert_eq!(
                owner(&found, r#"{"a":1}"#, Duration::from_secs(1)),
                Owner::Other
            );
        }
    }

    #[test]
    fn extreme_dates_and_durations_decide_without_overflow() {
        for start in [i64::MIN, -1, 0, i64::MAX] {
            for running in [Duration::ZERO, Duration::MAX] {
                for answered in [Some(0), Some(253_402_300_799), None] {
                    owner(&described(Some("{}"), start, answered), "{}", running);
                }
            }
        }
        let ancient = described(Some("{}"), i64::MIN, Some(0));
        assert_eq!(owner(&ancient, "{}", Duration::MAX), Owner::ThisCall);
        assert_eq!(owner(&ancient, "{}", Duration::ZERO), Owner::Other);
    }
}
