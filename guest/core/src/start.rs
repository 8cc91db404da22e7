//! StartExecution as one call: resolved once, named once, retried without ever starting a
//! second execution (spec §4, §5).

use std::time::{Duration, SystemTime};

use crate::arn::StateMachineArn;
use crate::client::{self, Client};
use crate::idempotency::{self, Owner};
use crate::io::Io;
use crate::types::{
    ClientOptions, Error, Execution, Failure, Outcome, ServiceError, SignedRequest,
    StartExecutionConfig,
};
use crate::{endpoint, error, sign, validate, wait, wire};

/// Which operation a call starts the state machine with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// StartExecution: returns once the execution has started.
    Start,
    /// StartSyncExecution (EXPRESS state machines): returns once the execution has ended.
    Sync,
}

/// Everything a call needs, checked and resolved before any request is made.
pub struct Call<'a> {
    pub client: Client,
    target: &'static str,
    arn: StateMachineArn<'a>,
    name: Option<&'a str>,
    input: &'a str,
    body: String,
}

/// Checks the arguments and options (every broken rule at once), then resolves the endpoint,
/// the credentials and the retry plan of `mode`. `generated` names an execution the caller
/// did not.
pub fn resolve<'a>(
    config: &'a StartExecutionConfig,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    generated: Option<&'a str>,
    mode: Mode,
) -> Result<Call<'a>, Error> {
    let (validated, settings) =
        error::all_valid(validate::validate(config), client::settings(options, env))
            .map_err(Error::InvalidConfig)?;
    let mut validated = validated;
    validated.name = validated.name.or(generated);
    let body = wire::request_body(&validated);
    let validate::Validated {
        arn, name, input, ..
    } = validated;
    let (target, host_prefix) = match mode {
        Mode::Start => (wire::START_EXECUTION, ""),
        Mode::Sync => (wire::START_SYNC_EXECUTION, endpoint::SYNC_HOST_PREFIX),
    };
    let mut client = settings.client(arn.partition, arn.region, host_prefix, options, env)?;
    // An express execution has no name to be found by after a lost answer.
    client.replayable = mode == Mode::Start;
    Ok(Call {
        client,
        target,
        arn,
        name,
        input,
        body,
    })
}

/// Validates, names the execution if the caller did not, and starts it through `io`: each
/// attempt signed afresh, transient failures retried with backoff within the call's
/// timeout, and an `ExecutionAlreadyExists` after a lost answer resolved with
/// DescribeExecution, so that one call never starts two executions of a STANDARD state
/// machine. Secrets are scrubbed from everything the service answered.
pub fn start(
    config: &StartExecutionConfig,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    io: &mut dyn Io,
) -> Result<Execution, Failure> {
    let generated = config
        .name
        .is_none()
        .then(|| idempotency::random_name(io.random(), io.random()));
    let mut call = resolve(config, options, env, generated.as_deref(), Mode::Start)
        .map_err(Failure::refused)?;
    let began = call.client.begin(io);
    call.start(io, began)
}

/// Validates, then runs an EXPRESS state machine with StartSyncExecution and returns how
/// the execution ended. The host is prefixed `sync-` on the rule set's endpoints; a custom
/// endpoint is used as given. Nothing names the execution, and only throttling and
/// connections that sent nothing are retried: an express execution cannot be looked up, so
/// a request whose answer was lost is not sent again.
pub fn start_sync(
    config: &StartExecutionConfig,
    options: &ClientOptions,
    env: &dyn Fn(&str) -> Option<String>,
    io: &mut dyn Io,
) -> Result<Outcome, Failure> {
    let mut call = resolve(config, options, env, None, Mode::Sync).map_err(Failure::refused)?;
    call.client.begin(io);
    let attempted = call
        .client
        .call(io, call.target, &call.body, wire::parse_sync);
    wait::finish(attempted.outcome, attempted.attempts)
}

impl Call<'_> {
    /// The request as given, signed at `now`: what `prepare` returns.
    pub fn sign(&self, now: SystemTime) -> Result<SignedRequest, Error> {
        let payload = sign::Payload::new(&self.body);
        self.client.sign(self.target, &payload, now)
    }

    /// Sends StartExecution with retries. An `ExecutionAlreadyExists` answered to a retry
    /// may be the execution an earlier attempt started before its answer was lost: it is
    /// looked up, and returned if it is this call's own. `began` is when the call began, on
    /// the monotonic clock of `io`.
    fn start(&self, io: &mut dyn Io, began: Duration) -> Result<Execution, Failure> {
        let attempted =
            self.client
                .call(io, wire::START_EXECUTION, &self.body, wire::parse_response);
        let attempts = attempted.attempts;
        let (outcome, unsure) = match attempted.outcome {
            Err(Error::Service(exists))
                if attempts > 1 && exists.code == "ExecutionAlreadyExists" =>
            {
                self.recover(io, exists, began)
            }
            other => (other, attempted.unsure),
        };
        match outcome {
            Ok(execution) => Ok(Execution {
                attempts,
                ..execution
            }),
            Err(error) => Err(Failure {
                error,
                attempts,
                maybe_started: self
                    .name
                    .filter(|_| unsure)
                    .map(|n| self.arn.execution_arn(n)),
            }),
        }
    }

    /// The execution an earlier attempt started, or the conflict as the service told it,
    /// and whether that execution may still be this call's own (the lookup failed, or its
    /// answer had no `Date` to tell).
    fn recover(
        &self,
        io: &mut dyn Io,
        exists: ServiceError,
        began: Duration,
    ) -> (Result<Execution, Error>, bool) {
        // Every attempt carries a name: given, or generated before the first.
        let Some(name) = self.name else {
            return (Err(Error::Service(exists)), false);
        };
        let arn = self.arn.execution_arn(name);
        let body = wire::describe_body(&arn);
        let described =
            self.client
                .call(io, wire::DESCRIBE_EXECUTION, &body, wire::parse_described);
        let found = match described.outcome {
            Ok(found) => found,
            Err(error) => {
                let why = format!("DescribeExecution, which would tell, failed ({error})");
                return (Err(unresolved(exists, &arn, &why)), true);
            }
        };
        let running = io.monotonic().saturating_sub(began);
        match idempotency::owner(&found, self.input, running) {
            Owner::ThisCall => {
                let execution = Execution {
                    execution_arn: found.outcome.execution_arn,
                    start_date_epoch_ms: found.outcome.start_date_epoch_ms,
                    request_id: found.outcome.request_id,
                    attempts: 0,
                };
                (Ok(execution), false)
            }
            Owner::Other => (Err(Error::Service(exists)), false),
            Owner::Unknown => {
                let why = "DescribeExecution's answer had no Date header to tell whether it started after this call began";
                (Err(unresolved(exists, &arn, why)), true)
            }
        }
    }
}

/// The conflict, saying that an earlier attempt may have started `arn` and `why` that is not
/// known, and how to check.
fn unresolved(exists: ServiceError, arn: &str, why: &str) -> Error {
    let message = format!(
        "{}. An earlier attempt of this call may have started {arn} before its answer was lost, but {why}. Check with: aws stepfunctions describe-execution --execution-arn {arn}",
        exists.message
    );
    Error::Service(ServiceError { message, ..exists })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::io::SendError;
    use crate::io::scripted::{Scripted, options};

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:M";
    const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:M";

    fn config(name: Option<&str>) -> StartExecutionConfig {
        StartExecutionConfig {
            state_machine_arn: ARN.into(),
            input: Some(r#"{"a":1}"#.into()),
            name: name.map(str::to_string),
            ..StartExecutionConfig::default()
        }
    }

    fn started(name: &str) -> Result<crate::Response, SendError> {
        let body = format!(r#"{{"executionArn":"{EXECUTION}:{name}","startDate":1800000000.5}}"#);
        Scripted::json(200, &body)
    }

    fn run(io: &mut Scripted, config: &StartExecutionConfig) -> Result<Execution, Failure> {
        start(config, &options(), &|_| None, io)
    }

    fn body(request: &SignedRequest) -> serde_json::Value {
        serde_json::from_str(&request.body).unwrap()
    }

    fn header<'a>(request: &'a SignedRequest, name: &str) -> &'a str {
        let found = request.headers.iter().find(|(k, _)| k == name);
        found.map(|(_, v)| v.as_str()).unwrap_or_default()
    }

    #[test]
    fn a_call_without_a_name_sends_one_generated_name_on_every_attempt() {
        let mut io = Scripted::new([Scripted::error(503, "ServiceUnavailable")]);
        io.answers.push_back(started("x"));
        // The longest backoff the first retry can draw: about a second.
        io.random = u64::MAX;
        let execution = run(&mut io, &config(None)).unwrap();
        assert_eq!(execution.attempts, 2);
        let names: Vec<String> = io
            .sent
            .iter()
            .map(|r| body(r)["name"].to_string())
            .collect();
        assert_eq!(names[0], names[1]);
        let name = body(&io.sent[0])["name"].as_str().unwrap().to_string();
        assert_eq!(name.len(), 36);
        assert_eq!(&name[14..15], "4", "version 4: {name}");
        // Each attempt is signed afresh, at its own time.
        assert_eq!(io.slept, [Duration::from_secs(1)]);
        assert_eq!(header(&io.sent[0], "x-amz-date"), "20270115T080000Z");
        assert_eq!(header(&io.sent[1], "x-amz-date"), "20270115T080001Z");
        let signature = |r| header(r, "authorization").rsplit("Signature=").next();
        assert_ne!(signature(&io.sent[0]), signature(&io.sent[1]));
    }

    #[test]
    fn transient_failures_are_retried_up_to_max_attempts_with_growing_backoff() {
        let mut io = Scripted::new([
            Scripted::error(500, "InternalFailure"),
            Err(SendError::Transient("connection reset".into())),
            Scripted::error(400, "ThrottlingException"),
        ]);
        let failure = run(&mut io, &config(Some("n"))).unwrap_err();
        assert_eq!(failure.attempts, 3);
        let Error::Service(e) = &failure.error else {
            panic!("{failure:?}")
        };
        assert_eq!((e.status, e.code.as_str()), (400, "ThrottlingException"));
        let half = |secs: u64| Duration::from_secs(secs).mul_f64(0.5);
        assert_eq!(io.slept, [half(1), half(2)]);
    }

    #[test]
    fn max_attempts_one_sends_once_and_final_errors_are_not_retried() {
        let once = ClientOptions {
            max_attempts: Some(1),
            ..options()
        };
        let mut io = Scripted::new([Scripted::error(503, "ServiceUnavailable")]);
        let failure = start(&config(Some("n")), &once, &|_| None, &mut io).unwrap_err();
        assert_eq!((failure.attempts, io.slept.len()), (1, 0));
        for answer in [
            Scripted::error(400, "ValidationException"),
            Scripted::error(400, "ExecutionLimitExceeded"),
            Scripted::error(403, "AccessDeniedException"),
            Scripted::json(200, "not json"),
            Err(SendError::Permanent(
                "refused by the host's outbound policy".into(),
            )),
        ] {
            let mut io = Scripted::new([answer.clone()]);
            let failure = run(&mut io, &config(Some("n"))).unwrap_err();
            assert_eq!((failure.attempts, io.sent.len()), (1, 1), "{answer:?}");
        }
    }

    #[test]
    fn the_timeout_ends_a_call_that_would_wait_past_it() {
        let quick = |ms| ClientOptions {
            timeout_ms: Some(ms),
            ..options()
        };
        // No answer before the deadline: the error names the timeout.
        let mut io = Scripted::new([]);
        io.send_takes = Duration::from_secs(5);
        let failure = start(&config(Some("n")), &quick(2000), &|_| None, &mut io).unwrap_err();
        assert_eq!(
            failure,
            Failure {
                error: Error::Transport(
                    "waiting for the response: the call's timeout of 2s passed".into()
                ),
                attempts: 1,
                // The request went out: it may have started the execution.
                maybe_started: Some(format!("{EXECUTION}:n")),
            }
        );
        // A backoff that would end past the deadline is not slept: the last error stands.
        let mut io = Scripted::new([Scripted::error(503, "ServiceUnavailable")]);
        let failure = start(&config(Some("n")), &quick(400), &|_| None, &mut io).unwrap_err();
        assert_eq!((failure.attempts, io.slept.len()), (1, 0));
        assert!(matches!(failure.error, Error::Service(ref e) if e.status == 503));
    }

    fn described(name: &str, input: &str, start_date: &str) -> Result<crate::Response, SendError> {
        let body = serde_json::json!({
            "executionArn": format!("{EXECUTION}:{name}"),
            "stateMachineArn": ARN,
            "name": name,
            "status": "SUCCEEDED",
            "input": input,
        });
        let mut text = body.to_string();
        text.insert_str(text.len() - 1, &format!(r#","startDate":{start_date}"#));
        Scripted::json(200, &text)
    }

    /// By the service's clock, the calls below begin at 1799990000.9 and DescribeExecution
    /// answers 0.53 s later (a send, a backoff of 0.5 s, two sends), dated that second.
    const ANSWERED: u64 = 1_799_990_001;

    /// A lost answer, the retry's conflict, then DescribeExecution's `answer`.
    fn lost_then(answer: Result<crate::Response, SendError>) -> Scripted {
        Scripted::new([
            Err(SendError::Transient(
                "connection closed before a response".into(),
            )),
            Scripted::error(400, "ExecutionAlreadyExists"),
            answer,
        ])
    }

    #[test]
    fn already_exists_after_a_lost_answer_is_this_calls_own_execution() {
        // The first attempt started it, 5 ms into the call by the service's clock.
        let ours = described("n", r#"{"a":1}"#, "1799990000.905");
        let mut io = lost_then(Scripted::dated(ours, ANSWERED));
        let execution = run(&mut io, &config(Some("n"))).unwrap();
        assert_eq!(
            execution,
            Execution {
                execution_arn: format!("{EXECUTION}:n"),
                start_date_epoch_ms: 1_799_990_000_905,
                request_id: Some("req-200".into()),
                attempts: 2,
            }
        );
        let targets: Vec<&str> = io.sent.iter().map(|r| header(r, "x-amz-target")).collect();
        assert_eq!(
            targets,
            [
                wire::START_EXECUTION,
                wire::START_EXECUTION,
                wire::DESCRIBE_EXECUTION
            ]
        );
        assert_eq!(
            io.sent[2].body,
            format!(r#"{{"executionArn":"{EXECUTION}:n"}}"#)
        );
    }

    #[test]
    fn a_failure_after_a_request_that_may_have_acted_names_the_execution_to_check() {
        let lost = || {
            Err(SendError::Transient(
                "connection closed before a response".into(),
            ))
        };
        let unsent = || Err(SendError::Unsent("connection refused".into()));
        let cases = [
            (vec![lost(), lost(), lost()], true),
            (vec![Scripted::error(500, "InternalFailure")], true),
            (vec![Scripted::json(200, "{")], true),
            // An early lost answer counts even though the last attempt was refused.
            (
                vec![
                    lost(),
                    Scripted::error(400, "ThrottlingException"),
                    unsent(),
                ],
                true,
            ),
            (vec![unsent(), unsent(), unsent()], false),
            (vec![Scripted::error(400, "ValidationException")], false),
            (
                vec![Err(SendError::Permanent(
                    "refused by the host's outbound policy".into(),
                ))],
                false,
            ),
        ];
        for (answers, unsure) in cases {
            let mut io = Scripted::new(answers.clone());
            let failure = run(&mut io, &config(None)).unwrap_err();
            let name = body(&io.sent[0])["name"].as_str().unwrap().to_string();
            let expected = unsure.then(|| format!("{EXECUTION}:{name}"));
            assert_eq!(failure.maybe_started, expected, "{answers:?}");
        }
        // A lost answer, then someone else's execution of the name: not ours, nothing to check.
        let mut io = Scripted::new([
            lost(),
            Scripted::error(400, "ExecutionAlreadyExists"),
            described("n", r#"{"other":1}"#, "1800000001"),
        ]);
        assert_eq!(
            run(&mut io, &config(Some("n"))).unwrap_err().maybe_started,
            None
        );
        // ...but if the lookup fails, it may be.
        let mut io = Scripted::new([
            lost(),
            Scripted::error(400, "ExecutionAlreadyExists"),
            Scripted::error(400, "AccessDeniedException"),
        ]);
        let failure = run(&mut io, &config(Some("n"))).unwrap_err();
        assert_eq!(failure.maybe_started, Some(format!("{EXECUTION}:n")));
    }

    #[test]
    fn unsent_requests_are_retried_even_by_start_sync() {
        let unsent = || Err(SendError::Unsent("connection refused".into()));
        let mut io = Scripted::new([unsent(), unsent(), ended_sync()]);
        let outcome = start_sync(&config(None), &options(), &|_| None, &mut io).unwrap();
        assert_eq!(outcome.attempts, 3);
    }

    #[test]
    fn already_exists_from_someone_else_stays_a_conflict() {
        let cases = [
            // Other input.
            described("n", r#"{"a":2}"#, "1799990000.905"),
            // Started a day before this call, by the service's clock.
            described("n", r#"{"a":1}"#, "1799903600.9"),
            // Started two seconds before this call, by the service's clock.
            described("n", r#"{"a":1}"#, "1799989998.9"),
        ];
        for describe in cases {
            let mut io = Scripted::new([
                Scripted::error(502, "BadGateway"),
                Scripted::error(400, "ExecutionAlreadyExists"),
                Scripted::dated(describe, ANSWERED),
            ]);
            let failure = run(&mut io, &config(Some("n"))).unwrap_err();
            assert_eq!((failure.attempts, failure.maybe_started), (2, None));
            let Error::Service(e) = failure.error else {
                panic!()
            };
            assert_eq!(
                (e.code.as_str(), e.message.as_str()),
                ("ExecutionAlreadyExists", "ExecutionAlreadyExists here")
            );
        }
        // On the first attempt it can only be someone else's: nothing is looked up.
        let mut io = Scripted::new([Scripted::error(400, "ExecutionAlreadyExists")]);
        assert_eq!(run(&mut io, &config(Some("n"))).unwrap_err().attempts, 1);
        assert_eq!(io.sent.len(), 1);
    }

    #[test]
    fn our_wall_clock_hours_off_changes_nothing() {
        let hour = Duration::from_secs(3600);
        let service_began = std::time::UNIX_EPOCH + Duration::from_millis(1_799_990_000_900);
        for wall in [service_began - 3 * hour, service_began + 3 * hour] {
            let ours = described("n", r#"{"a":1}"#, "1799990000.905");
            let mut io = lost_then(Scripted::dated(ours, ANSWERED));
            io.wall_origin = wall;
            assert!(run(&mut io, &config(Some("n"))).is_ok(), "{wall:?}");
            let older = described("n", r#"{"a":1}"#, "1799989998.9");
            let mut io = lost_then(Scripted::dated(older, ANSWERED));
            io.wall_origin = wall;
            assert!(run(&mut io, &config(Some("n"))).is_err(), "{wall:?}");
        }
    }

    #[test]
    fn an_answer_without_a_date_leaves_the_conflict_unresolved() {
        let mut io = lost_then(described("n", r#"{"a":1}"#, "1799990000.905"));
        let failure = run(&mut io, &config(Some("n"))).unwrap_err();
        let arn = format!("{EXECUTION}:n");
        assert_eq!(failure.maybe_started.as_deref(), Some(arn.as_str()));
        let Error::Service(e) = failure.error else {
            panic!("{:?}", failure.error)
        };
        assert_eq!(
            (e.code.as_str(), e.message),
            (
                "ExecutionAlreadyExists",
                format!(
                    "ExecutionAlreadyExists here. An earlier attempt of this call may have started {arn} before its answer was lost, but DescribeExecution's answer had no Date header to tell whether it started after this call began. Check with: aws stepfunctions describe-execution --execution-arn {arn}"
                )
            )
        );
    }

    #[test]
    fn a_denied_lookup_says_what_may_have_happened_and_how_to_check() {
        let mut io = Scripted::new([
            Err(SendError::Transient(
                "timed out waiting for the response".into(),
            )),
            Scripted::error(400, "ExecutionAlreadyExists"),
            Scripted::error(400, "AccessDeniedException"),
        ]);
        let failure = run(&mut io, &config(Some("n"))).unwrap_err();
        let arn = format!("{EXECUTION}:n");
        assert_eq!(failure.attempts, 2);
        assert_eq!(
            failure.error,
            Error::Service(ServiceError {
                status: 400,
                code: "ExecutionAlreadyExists".into(),
                message: format!(
                    "ExecutionAlreadyExists here. An earlier attempt of this call may have started {arn} before its answer was lost, but DescribeExecution, which would tell, failed (AccessDeniedException: AccessDeniedException here (HTTP 400)). Check with: aws stepfunctions describe-execution --execution-arn {arn}"
                ),
                request_id: Some("req-400".into()),
            })
        );
    }

    #[test]
    fn refused_arguments_and_options_make_no_attempt() {
        let bad = ClientOptions {
            max_attempts: Some(0),
            ..options()
        };
        let mut io = Scripted::new([]);
        let failure = start(&config(Some("a b")), &bad, &|_| None, &mut io).unwrap_err();
        assert_eq!(failure.attempts, 0);
        let Error::InvalidConfig(errors) = failure.error else {
            panic!()
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "max_attempts"]);
        assert!(io.sent.is_empty());
    }

    fn ended_sync() -> Result<crate::Response, SendError> {
        let body = format!(
            r#"{{"executionArn":"{EXECUTION}:x","stateMachineArn":"{ARN}","startDate":1800000000,"stopDate":1800000000.123,"status":"SUCCEEDED","output":"{{\"b\": 2}}","billingDetails":{{"billedMemoryUsedInMB":64,"billedDurationInMilliseconds":200}}}}"#
        );
        Scripted::json(200, &body)
    }

    #[test]
    fn sync_runs_on_the_sync_host_unnamed_and_returns_the_result() {
        let mut io = Scripted::new([ended_sync()]);
        let outcome = start_sync(&config(None), &options(), &|_| None, &mut io).unwrap();
        assert_eq!(
            outcome,
            Outcome {
                execution_arn: format!("{EXECUTION}:x"),
                status: "SUCCEEDED".into(),
                start_date_epoch_ms: 1_800_000_000_000,
                stop_date_epoch_ms: Some(1_800_000_000_123),
                output: Some(r#"{"b": 2}"#.into()),
                error: None,
                cause: None,
                billing: Some(crate::BillingDetails {
                    billed_memory_used_mb: 64,
                    billed_duration_ms: 200
                }),
                request_id: Some("req-200".into()),
                attempts: 1,
            }
        );
        let sent = &io.sent[0];
        assert_eq!(sent.url, "https://sync-states.us-east-1.amazonaws.com/");
        assert_eq!(header(sent, "host"), "sync-states.us-east-1.amazonaws.com");
        assert_eq!(header(sent, "x-amz-target"), wire::START_SYNC_EXECUTION);
        // No generated name: an express execution is not found by it.
        assert_eq!(body(sent).get("name"), None);
        // A custom endpoint is used as given.
        let custom = ClientOptions {
            endpoint_url: Some("http://127.0.0.1:4566".into()),
            ..options()
        };
        let mut io = Scripted::new([ended_sync()]);
        start_sync(&config(None), &custom, &|_| None, &mut io).unwrap();
        assert_eq!(io.sent[0].url, "http://127.0.0.1:4566/");
    }

    #[test]
    fn ignored_endpoint_variables_send_to_the_rule_sets_endpoint() {
        let env = |name: &str| match name {
            endpoint::IGNORE_VARIABLE => Some("true".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:4566".to_string()),
            _ => None,
        };
        let mut io = Scripted::new([started("n")]);
        start(&config(Some("n")), &options(), &env, &mut io).unwrap();
        assert_eq!(io.sent[0].url, "https://states.us-east-1.amazonaws.com/");
    }

    #[test]
    fn sync_retries_only_refusals_never_a_request_that_may_have_run() {
        let mut io = Scripted::new([
            Scripted::error(400, "ThrottlingException"),
            Scripted::error(429, "TooManyRequests"),
            ended_sync(),
        ]);
        let outcome = start_sync(&config(None), &options(), &|_| None, &mut io).unwrap();
        assert_eq!(outcome.attempts, 3);
        for answer in [
            Scripted::error(500, "InternalFailure"),
            Scripted::error(503, "ServiceUnavailable"),
            Err(SendError::Transient(
                "connection closed before a response".into(),
            )),
            Scripted::error(400, "StateMachineTypeNotSupported"),
        ] {
            let mut io = Scripted::new([answer.clone(), ended_sync()]);
            let failure = start_sync(&config(None), &options(), &|_| None, &mut io).unwrap_err();
            assert_eq!((failure.attempts, io.sent.len()), (1, 1), "{answer:?}");
        }
    }

    #[test]
    fn prepare_signs_exactly_what_it_is_given() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let signed = crate::prepare(&config(None), &options(), &|_| None, now).unwrap();
        assert_eq!(
            signed.body,
            format!(r#"{{"stateMachineArn":"{ARN}","input":"{{\"a\":1}}"}}"#)
        );
    }
}
