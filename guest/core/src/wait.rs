//! Following an execution: DescribeExecution once, or polled until the execution ends or
//! the wait's time is up (`describe-and-sync.md`).

use std::time::Duration;

use crate::client::{self, Attempted, Client};
use crate::io::Io;
use crate::types::{ClientOptions, Error, Failure, FieldError, Outcome};
use crate::{arn, error, wire};

/// How long after a wait begins an `ExecutionDoesNotExist` is taken for DescribeExecution's
/// eventual consistency (a start not yet visible) rather than an answer.
pub const CONSISTENCY_WINDOW: Duration = Duration::from_secs(10);
/// Polls are never closer together than this...
pub const FASTEST_POLL: Duration = Duration::from_millis(250);
/// ...nor, while they succeed, further apart than this.
pub const SLOWEST_POLL: Duration = Duration::from_secs(5);
/// After polls that failed on throttling, a 5xx or a failed connection, up to this far apart.
pub const THROTTLED_POLL: Duration = Duration::from_secs(20);

/// The wait before the next poll of an execution that has run for `age`: a quarter of its
/// age, between [`FASTEST_POLL`] and [`SLOWEST_POLL`], so that a short execution is seen to
/// end soon after it does and a long one costs few requests. After `failed` polls in a row
/// that failed on throttling, a server error or a failed connection, at least
/// `min(2^(failed-1), 20)` seconds.
pub fn poll_interval(age: Duration, failed: u32) -> Duration {
    let interval = (age / 4).clamp(FASTEST_POLL, SLOWEST_POLL);
    if failed == 0 {
        return interval;
    }
    let backoff = Duration::from_secs(1)
        .checked_mul(1 << failed.saturating_sub(1).min(31))
        .map_or(THROTTLED_POLL, |d| d.min(THROTTLED_POLL));
    interval.max(backoff)
}

/// DescribeExecution of one execution, resolved once.
struct Follow {
    client: Client,
    body: String,
}

fn resolve(
    execution_arn: &str,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Follow, Error> {
    let parsed = arn::parse_execution(execution_arn).map_err(|problems| {
        let field = |problem| FieldError::new("execution_arn", problem);
        problems.into_iter().map(field).collect::<Vec<_>>()
    });
    let (parsed, settings) =
        error::all_valid(parsed, client::settings(options, env)).map_err(Error::InvalidConfig)?;
    Ok(Follow {
        client: settings.client(parsed.partition, parsed.region, "", options, env)?,
        body: wire::describe_body(execution_arn),
    })
}

/// What DescribeExecution says of the execution now, with retries as the options say.
pub fn describe(
    execution_arn: &str,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    io: &mut dyn Io,
) -> Result<Outcome, Failure> {
    let mut follow = resolve(execution_arn, options, env).map_err(Failure::refused)?;
    let polled = follow.poll(io);
    finish(polled.outcome, polled.attempts)
}

/// Polls DescribeExecution until the execution has ended or `max_wait` has passed, and
/// returns what it last said: on time out, the execution still `RUNNING`. Each poll
/// retries as the options say, within their `timeout-ms`; a poll that still fails on
/// throttling, a server error or a failed connection only slows the polls down. An `ExecutionDoesNotExist`
/// during the first [`CONSISTENCY_WINDOW`] is polled through.
pub fn wait(
    execution_arn: &str,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    io: &mut dyn Io,
    max_wait: Duration,
) -> Result<Outcome, Failure> {
    let mut follow = resolve(execution_arn, options, env).map_err(Failure::refused)?;
    let began = io.monotonic();
    let until = began.saturating_add(max_wait);
    let (mut attempts, mut failed, mut seen) = (0, 0, None::<Outcome>);
    loop {
        let polled = follow.poll(io);
        attempts += polled.attempts;
        let now = io.monotonic();
        let waited = now.saturating_sub(began);
        let age = match polled.outcome {
            Ok(outcome) if !outcome.is_open() => return finish(Ok(outcome), attempts),
            Ok(outcome) => {
                failed = 0;
                let age = age_of(&outcome, io);
                seen = Some(outcome);
                age
            }
            Err(error) if seen.is_none() && not_yet_visible(&error, waited) => waited,
            // Throttled, a 5xx or a failed connection, retries and all: poll again, later.
            Err(_) if polled.gave_up && now < until => {
                failed += 1;
                waited
            }
            // Time ran out in a poll that failed as a poll may: the last status stands.
            Err(error) if polled.gave_up => return finish(seen.ok_or(error), attempts),
            Err(error) => return finish(Err(error), attempts),
        };
        if now >= until {
            let error = || Error::Transport(format!("the wait of {max_wait:?} passed"));
            return finish(seen.ok_or_else(error), attempts);
        }
        io.sleep(poll_interval(age, failed).min(until - now));
    }
}

impl Follow {
    /// One DescribeExecution call, retries included.
    fn poll(&mut self, io: &mut dyn Io) -> Attempted<Outcome> {
        self.client.begin(io);
        let attempted = self.client.call(
            io,
            wire::DESCRIBE_EXECUTION,
            &self.body,
            wire::parse_described,
        );
        Attempted {
            outcome: attempted.outcome.map(|described| described.outcome),
            attempts: attempted.attempts,
            gave_up: attempted.gave_up,
            unsure: attempted.unsure,
        }
    }
}

/// A call's outcome with the requests it sent, or its failure.
pub fn finish(outcome: Result<Outcome, Error>, attempts: u32) -> Result<Outcome, Failure> {
    match outcome {
        Ok(outcome) => Ok(Outcome {
            attempts,
            ..outcome
        }),
        Err(error) => Err(Failure {
            error,
            attempts,
            maybe_started: None,
        }),
    }
}

/// An execution started moments ago that DescribeExecution does not see yet.
fn not_yet_visible(error: &Error, waited: Duration) -> bool {
    matches!(error, Error::Service(e) if e.code == "ExecutionDoesNotExist")
        && waited < CONSISTENCY_WINDOW
}

/// How long the execution has run, by the wall clock; zero if its start is in the future
/// (clock skew).
fn age_of(outcome: &Outcome, io: &mut dyn Io) -> Duration {
    let now_ms = io
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let age_ms = now_ms.saturating_sub(outcome.start_date_epoch_ms);
    Duration::from_millis(u64::try_from(age_ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::SendError;
    use crate::io::scripted::{Scripted, options};
    use crate::types::SignedRequest;

    const EXECUTION: &str = "arn:aws:states:eu-west-1:123456789012:execution:M:run-1";
    /// The scripted wall clock's origin, in epoch seconds.
    const T0: u64 = 1_800_000_000;

    fn described(status: &str, extra: &str) -> Result<crate::Response, SendError> {
        Scripted::json(
            200,
            &format!(
                r#"{{"executionArn":"{EXECUTION}","stateMachineArn":"arn:aws:states:eu-west-1:123456789012:stateMachine:M","status":"{status}","startDate":{T0}{extra}}}"#
            ),
        )
    }

    fn running() -> Result<crate::Response, SendError> {
        described("RUNNING", "")
    }

    fn header<'a>(request: &'a SignedRequest, name: &str) -> &'a str {
        let found = request.headers.iter().find(|(k, _)| k == name);
        found.map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    fn wait_for(io: &mut Scripted, max_wait: Duration) -> Result<Outcome, Failure> {
        wait(EXECUTION, &options(), &|_| None, io, max_wait)
    }

    #[test]
    fn polls_slow_down_with_the_executions_age_and_after_failures() {
        let ms = Duration::from_millis;
        assert_eq!(poll_interval(Duration::ZERO, 0), ms(250));
        assert_eq!(poll_interval(ms(2000), 0), ms(500));
        assert_eq!(poll_interval(Duration::from_secs(60), 0), ms(5000));
        assert_eq!(poll_interval(ms(400), 1), ms(1000));
        assert_eq!(poll_interval(ms(400), 3), ms(4000));
        assert_eq!(poll_interval(Duration::from_secs(3600), 40), ms(20_000));
    }

    #[test]
    fn waits_until_the_execution_ends_and_returns_its_result() {
        let output = r#"{"total":  3, "é":"\u00e9"}"#;
        let ended = format!(
            r#","stopDate":{}.5,"output":{}"#,
            T0 + 2,
            serde_json::to_string(output).unwrap()
        );
        let mut io = Scripted::new([running(), running(), described("SUCCEEDED", &ended)]);
        let outcome = wait_for(&mut io, Duration::from_secs(60)).unwrap();
        assert_eq!(
            outcome,
            Outcome {
                execution_arn: EXECUTION.into(),
                status: "SUCCEEDED".into(),
                start_date_epoch_ms: T0 as i64 * 1000,
                stop_date_epoch_ms: Some((T0 as i64 + 2) * 1000 + 500),
                output: Some(output.into()),
                error: None,
                cause: None,
                billing: None,
                request_id: Some("req-200".into()),
                attempts: 3,
            }
        );
        // Each poll is one DescribeExecution of the execution, to its region.
        for sent in &io.sent {
            assert_eq!(header(sent, "x-amz-target"), wire::DESCRIBE_EXECUTION);
            assert_eq!(sent.url, "https://states.eu-west-1.amazonaws.com/");
            assert_eq!(sent.body, format!(r#"{{"executionArn":"{EXECUTION}"}}"#));
        }
        let quarter = Duration::from_millis(250);
        assert_eq!(io.slept, [quarter, quarter]);
    }

    #[test]
    fn a_failed_execution_comes_back_with_its_error_and_cause() {
        let failed = r#","stopDate":1800000001,"error":"States.TaskFailed","cause":"it broke""#;
        let mut io = Scripted::new([described("FAILED", failed)]);
        let outcome = wait_for(&mut io, Duration::from_secs(60)).unwrap();
        assert_eq!(
            (outcome.status.as_str(), outcome.error.as_deref()),
            ("FAILED", Some("States.TaskFailed"))
        );
        assert_eq!(
            (outcome.cause.as_deref(), outcome.output),
            (Some("it broke"), None)
        );
    }

    #[test]
    fn the_first_seconds_does_not_exist_is_polled_through_and_later_is_an_error() {
        let missing = || Scripted::error(400, "ExecutionDoesNotExist");
        let mut io = Scripted::new([missing(), missing(), described("SUCCEEDED", "")]);
        let outcome = wait_for(&mut io, Duration::from_secs(60)).unwrap();
        assert_eq!(
            (outcome.status.as_str(), outcome.attempts),
            ("SUCCEEDED", 3)
        );
        // Past the window it is the answer.
        let mut io = Scripted::new((0..100).map(|_| missing()));
        let failure = wait_for(&mut io, Duration::from_secs(60)).unwrap_err();
        let Error::Service(e) = &failure.error else {
            panic!("{failure:?}")
        };
        assert_eq!(e.code, "ExecutionDoesNotExist");
        assert!(io.clock >= CONSISTENCY_WINDOW && io.clock < CONSISTENCY_WINDOW * 2);
        assert_eq!(failure.attempts as usize, io.sent.len());
    }

    #[test]
    fn throttled_polls_back_off_and_the_wait_goes_on() {
        let throttled = || Scripted::error(400, "ThrottlingException");
        let once = ClientOptions {
            max_attempts: Some(1),
            ..options()
        };
        let mut io = Scripted::new([running(), throttled(), throttled(), running()]);
        io.answers.push_back(described("SUCCEEDED", ""));
        let outcome = wait(
            EXECUTION,
            &once,
            &|_| None,
            &mut io,
            Duration::from_secs(60),
        );
        assert_eq!(outcome.unwrap().attempts, 5);
        let secs = |s: f64| Duration::from_secs_f64(s);
        // Age-based 250 ms, then 1 s and 2 s after the throttled polls, then age-based again.
        assert_eq!(io.slept[..3], [secs(0.25), secs(1.0), secs(2.0)]);
        // A final error still ends the wait.
        let mut io = Scripted::new([running(), Scripted::error(400, "AccessDeniedException")]);
        let failure = wait_for(&mut io, Duration::from_secs(60)).unwrap_err();
        assert!(
            matches!(failure.error, Error::Service(ref e) if e.code == "AccessDeniedException")
        );
    }

    #[test]
    fn when_the_wait_is_up_the_last_poll_is_at_its_end_and_says_running() {
        let mut io = Scripted::new((0..200).map(|_| running()));
        let outcome = wait_for(&mut io, Duration::from_secs(30)).unwrap();
        assert_eq!(outcome.status, "RUNNING");
        assert_eq!(outcome.attempts as usize, io.sent.len());
        let polls_ended = io.clock;
        assert!(polls_ended >= Duration::from_secs(30), "{polls_ended:?}");
        assert!(
            polls_ended < Duration::from_millis(30_100),
            "{polls_ended:?}"
        );
        // A zero wait polls once.
        let mut io = Scripted::new([running()]);
        let outcome = wait_for(&mut io, Duration::ZERO).unwrap();
        assert_eq!((outcome.status.as_str(), io.sent.len()), ("RUNNING", 1));
    }

    #[test]
    fn bad_arns_and_express_executions_are_refused_before_any_request() {
        let mut io = Scripted::new([]);
        let express = "arn:aws:states:us-east-1:123456789012:express:M:n:5e0f";
        let failure = wait(express, &options(), &|_| None, &mut io, Duration::ZERO).unwrap_err();
        let Error::InvalidConfig(errors) = failure.error else {
            panic!()
        };
        assert_eq!(errors[0].field, "execution_arn");
        assert!(errors[0].message.contains("StartSyncExecution (--sync)"));
        let bad = ClientOptions {
            max_attempts: Some(0),
            ..options()
        };
        let failure = describe("arn:x", &bad, &|_| None, &mut io).unwrap_err();
        let Error::InvalidConfig(errors) = failure.error else {
            panic!()
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["execution_arn", "max_attempts"]);
        assert!(io.sent.is_empty());
    }

    #[test]
    fn describe_asks_once_and_says_what_it_was_told() {
        let mut io = Scripted::new([running()]);
        let outcome = describe(EXECUTION, &options(), &|_| None, &mut io).unwrap();
        assert_eq!((outcome.status.as_str(), outcome.attempts), ("RUNNING", 1));
        assert!(outcome.is_open());
    }
}
