//! Never two executions from one call (spec §4): every attempt carries the same name, one
//! drawn at random when the caller gave none, and an `ExecutionAlreadyExists` after a lost
//! answer is told apart from a true conflict by what DescribeExecution reports.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::wire::Described;

/// How far the service's clock may run behind ours. AWS refuses requests signed more than
/// 15 minutes off its clock, so an execution that one of this call's attempts started cannot
/// carry a start date earlier than this before the call began, on our clock.
pub const CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

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

/// Whether the described execution is the one an earlier attempt of this call started: the
/// same input (as sent, or as the same JSON value), started after the call began. `Err`
/// says why not.
pub fn is_ours(described: &Described, input: &str, began: SystemTime) -> Result<(), String> {
    let same_input = match described.input.as_deref() {
        Some(theirs) => theirs == input || same_json(theirs, input),
        None => false,
    };
    if !same_input {
        return Err("it was started with other input".into());
    }
    let began_ms = began
        .checked_sub(CLOCK_SKEW)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    if described.outcome.start_date_epoch_ms < began_ms {
        return Err("it started before this call began".into());
    }
    Ok(())
}

fn same_json(a: &str, b: &str) -> bool {
    let parse = |text| serde_json::from_str::<serde_json::Value>(text).ok();
    matches!((parse(a), parse(b)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(input: Option<&str>, start_date_epoch_ms: i64) -> Described {
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
    fn ours_means_the_same_input_since_the_call_began() {
        let began = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |secs: i64| 1_800_000_000_000 + secs * 1000;
        assert_eq!(
            is_ours(&described(Some(r#"{"a":1}"#), at(1)), r#"{"a":1}"#, began),
            Ok(())
        );
        // The service may give the input back re-spaced: the same JSON value is the same.
        assert_eq!(
            is_ours(&described(Some(r#"{"a": 1}"#), at(1)), r#"{"a":1}"#, began),
            Ok(())
        );
        // Its clock may run behind ours, by as much as SigV4 lets a request be off.
        assert_eq!(
            is_ours(&described(Some("{}"), at(-900)), "{}", began),
            Ok(())
        );
        assert_eq!(
            is_ours(&described(Some("{}"), at(-901)), "{}", began),
            Err("it started before this call began".into())
        );
        for other in [Some(r#"{"a":2}"#), None] {
            assert_eq!(
                is_ours(&described(other, at(1)), r#"{"a":1}"#, began),
                Err("it was started with other input".into())
            );
        }
    }
}
