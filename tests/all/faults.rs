//! Retries against the stand-in's model of the service, with a fault scripted in front of it
//! (spec §4–5): for every kind of failure, what the call returns, how many StartExecutions
//! it sent, and how many executions the service started: never more than one.
//!
//! The cases run concurrently, so that their backoffs (up to 1 s, then 2 s) overlap.

use std::sync::Arc;
use std::time::Duration;

use sfn_host::{ClientOptions, Error, Execution, Failure, StartExecutionConfig};
use sfn_test_kit::ARN;
use sfn_test_kit::service::{Executions, Fault, execution_arn};
use sfn_test_kit::standin::{Reply, StandIn};
use tokio::task::JoinSet;

use crate::{config, host, options, runtime, standin};

/// What one call did.
#[derive(Debug)]
struct Seen {
    outcome: Result<Execution, Failure>,
    /// StartExecution requests the stand-in received.
    requests: usize,
    /// DescribeExecution requests.
    describes: usize,
    /// Executions the service started.
    executions: usize,
    /// Their ARNs.
    started: Vec<String>,
}

/// Runs `config` once against a model that meets `faults` first, with `setup` applied.
async fn call(
    faults: Vec<Fault>,
    config: StartExecutionConfig,
    options: ClientOptions,
    setup: fn(&Executions),
) -> Seen {
    let executions = Arc::new(Executions::with_faults(faults));
    setup(&executions);
    let model = Arc::clone(&executions);
    let server: StandIn = standin(move |request| model.reply(request));
    let options = ClientOptions {
        endpoint_url: Some(server.url()),
        ..options
    };
    let outcome = runtime(host(&server.url()))
        .start(&config, &options)
        .await
        .expect("the call completes");
    let requests = server.requests();
    let target = |r: &&sfn_test_kit::standin::Recorded| r.header("x-amz-target").map(str::to_owned);
    let count = |name: &str| {
        let matching = requests
            .iter()
            .filter(|r| target(r).as_deref() == Some(name));
        matching.count()
    };
    assert!(requests.iter().all(|r| r.check.is_ok()), "{requests:#?}");
    Seen {
        outcome,
        requests: count("AWSStepFunctions.StartExecution"),
        describes: count("AWSStepFunctions.DescribeExecution"),
        executions: executions.started().len(),
        started: executions.started().into_iter().map(|e| e.arn).collect(),
    }
}

fn error(status: u16, code: &str) -> Reply {
    Reply::error(status, code, &format!("{code} (scripted)"), "fault")
}

fn raw(status: u16, body: &str) -> Reply {
    Reply::Raw {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }
}

/// Every fault that a retry recovers from: the call succeeds on its second attempt and the
/// service holds one execution.
fn recovered() -> Vec<(String, Fault)> {
    let mut cases = vec![
        (
            "429 without a code".to_string(),
            Fault::Instead(raw(429, "{}")),
        ),
        ("500".into(), Fault::Instead(error(500, "InternalFailure"))),
        (
            "502 from a proxy".into(),
            Fault::Instead(raw(502, "<html><title>502 Bad Gateway</title></html>")),
        ),
        ("503 with no body".into(), Fault::Instead(raw(503, ""))),
        ("504".into(), Fault::Instead(raw(504, "gateway timeout"))),
        (
            "RequestTimeout".into(),
            Fault::Instead(error(408, "RequestTimeout")),
        ),
        (
            "RequestTimeoutException".into(),
            Fault::Instead(error(400, "RequestTimeoutException")),
        ),
        (
            "closed after the request was read, before the service acted".into(),
            Fault::Instead(Reply::Drop),
        ),
        (
            "reset after the execution started".into(),
            Fault::LostAfterStart,
        ),
        ("answer cut mid-body".into(), Fault::CutAfterStart),
    ];
    // The standard mode's throttling codes as the kit writes them out, not the core's.
    let throttling = sfn_test_kit::standard_retry::THROTTLING;
    for code in throttling {
        cases.push((code.to_string(), Fault::Instead(error(400, code))));
    }
    cases
}

#[tokio::test]
async fn every_transient_fault_is_retried_into_one_execution() {
    let mut calls = JoinSet::new();
    for (case, fault) in recovered() {
        let config = config(ARN);
        calls.spawn(async move { (case, call(vec![fault], config, options(None), |_| {}).await) });
    }
    let mut table = Vec::new();
    while let Some(joined) = calls.join_next().await {
        let (case, seen) = joined.expect("the case ran");
        let execution = seen
            .outcome
            .as_ref()
            .unwrap_or_else(|f| panic!("{case}: {f:?}"));
        assert_eq!(execution.attempts, 2, "{case}");
        assert_eq!(
            (seen.requests, seen.executions, seen.describes),
            (2, 1, 0),
            "{case}"
        );
        // The matrix, for `--nocapture`.
        eprintln!("| {case} | started | 2 | 1 |");
        table.push(case);
    }
    assert_eq!(table.len(), 24);
}

#[tokio::test]
async fn a_reset_before_the_request_is_read_is_retried_on_a_new_connection() {
    let executions = Arc::new(Executions::default());
    let model = Arc::clone(&executions);
    let server = standin(move |request| model.reply(request));
    server.reset_connections(1);
    let execution = runtime(host(&server.url()))
        .start(&config(ARN), &options(Some(&server.url())))
        .await
        .unwrap()
        .expect("the retry starts it");
    assert_eq!(execution.attempts, 2);
    // The reset connection recorded nothing; the second carried the one request.
    assert_eq!((server.connections(), server.requests().len()), (2, 1));
    assert_eq!(executions.started().len(), 1);
}

#[tokio::test]
async fn final_answers_are_not_retried_and_start_at_most_one() {
    let over_cap = format!(r#"{{"executionArn":"{}"}}"#, "x".repeat(4 << 20));
    let stalled = Reply::Stall {
        body: br#"{"executionArn":"arn","startDate":1}"#.to_vec(),
        sent: 10,
    };
    let quick = ClientOptions {
        timeout_ms: Some(1000),
        ..options(None)
    };
    let cases: Vec<(&str, Fault, ClientOptions, &str)> = vec![
        (
            "garbage JSON",
            Fault::After(raw(200, r#"{"executionArn": tru"#)),
            options(None),
            "HTTP 200 body is not a StartExecution result",
        ),
        (
            "a body over the cap",
            Fault::After(raw(200, &over_cap)),
            options(None),
            "the response body is larger than 4194304 bytes",
        ),
        (
            "a stall past the timeout",
            Fault::After(stalled),
            quick,
            "failed: reading the response: the call's timeout of 1s passed",
        ),
        (
            "a validation error",
            Fault::Instead(error(400, "ValidationException")),
            options(None),
            "ValidationException (scripted)",
        ),
    ];
    let mut calls = JoinSet::new();
    for (case, fault, options, says) in cases {
        let executions = usize::from(!case.contains("validation"));
        calls.spawn(async move {
            let seen = call(vec![fault], config(ARN), options, |_| {}).await;
            (case, says, executions, seen)
        });
    }
    while let Some(joined) = calls.join_next().await {
        let (case, says, executions, seen) = joined.expect("the case ran");
        let failure = seen.outcome.as_ref().expect_err(case);
        assert!(
            format!("{:?}", failure.error).contains(says),
            "{case}: {failure:?}"
        );
        assert_eq!(failure.attempts, 1, "{case}");
        assert_eq!((seen.requests, seen.executions), (1, executions), "{case}");
        // The execution the service started without the call knowing is the one the
        // failure names; after a refusal, none.
        assert_eq!(
            failure.maybe_started,
            seen.started.first().cloned(),
            "{case}"
        );
        eprintln!("| {case} | {says} | 1 | {executions} |");
    }
}

#[tokio::test]
async fn attempts_run_out_with_the_last_error() {
    let unavailable = || Fault::Instead(raw(503, "try later"));
    let faults = vec![unavailable(), unavailable(), unavailable()];
    let started = std::time::Instant::now();
    let seen = call(faults, config(ARN), options(None), |_| {}).await;
    let failure = seen.outcome.expect_err("every attempt failed");
    assert_eq!(failure.attempts, 3);
    let Error::Service(e) = failure.error else {
        panic!("{failure:?}")
    };
    assert_eq!(
        (e.status, e.code.as_str(), e.message.as_str()),
        (503, "ServiceUnavailable", "try later")
    );
    assert_eq!((seen.requests, seen.executions), (3, 0));
    // Two backoffs, each under its ceiling (1 s, then 2 s): far less than two of the 20 s
    // ceiling, with seconds to spare for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    // max-attempts 1 sends once.
    let once = ClientOptions {
        max_attempts: Some(1),
        ..options(None)
    };
    let seen = call(vec![unavailable()], config(ARN), once, |_| {}).await;
    assert_eq!((seen.outcome.unwrap_err().attempts, seen.requests), (1, 1));
}

#[tokio::test]
async fn aws_max_attempts_reaches_the_component_through_the_host() {
    let executions = Arc::new(Executions::with_faults(
        (0..5).map(|_| Fault::Instead(error(400, "ThrottlingException"))),
    ));
    let model = Arc::clone(&executions);
    let server = standin(move |request| model.reply(request));
    let mut host = host(&server.url());
    host.env.push(("AWS_MAX_ATTEMPTS".into(), "2".into()));
    let failure = runtime(host)
        .start(&config(ARN), &options(Some(&server.url())))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!((failure.attempts, executions.start_requests()), (2, 2));
}

/// The execution of an earlier attempt ended before the retry: the retry's
/// `ExecutionAlreadyExists` is resolved with DescribeExecution.
#[tokio::test]
async fn a_lost_answer_whose_execution_already_ended_is_found_and_returned() {
    let seen = call(
        vec![Fault::LostAfterStartAndClosed],
        config(ARN),
        options(None),
        |_| {},
    )
    .await;
    let execution = seen.outcome.expect("the earlier attempt's execution");
    assert_eq!(execution.attempts, 2);
    assert_eq!((seen.requests, seen.describes, seen.executions), (2, 1, 1));
    assert!(execution.execution_arn.starts_with(&execution_arn(ARN, "")));
    assert_eq!(execution.request_id.as_deref(), Some("describe-1"));
}

#[tokio::test]
async fn a_denied_lookup_says_an_earlier_attempt_may_have_started_it() {
    let named = StartExecutionConfig {
        name: Some("nightly".into()),
        ..config(ARN)
    };
    let seen = call(
        vec![Fault::LostAfterStartAndClosed],
        named,
        options(None),
        Executions::deny_describe,
    )
    .await;
    let failure = seen.outcome.expect_err("the lookup was denied");
    let arn = execution_arn(ARN, "nightly");
    assert_eq!(failure.attempts, 2);
    let Error::Service(e) = failure.error else {
        panic!("{failure:?}")
    };
    assert_eq!(e.code, "ExecutionAlreadyExists");
    assert_eq!(
        e.message,
        format!(
            "Execution Already Exists: '{arn}'. An earlier attempt of this call may have started {arn} before its answer was lost, but DescribeExecution, which would tell, failed (AccessDeniedException: User is not authorized to perform: states:DescribeExecution (HTTP 400)). Check with: aws stepfunctions describe-execution --execution-arn {arn}"
        )
    );
    assert_eq!((seen.requests, seen.describes, seen.executions), (2, 1, 1));
}

#[tokio::test]
async fn someone_elses_execution_of_the_same_name_stays_a_conflict() {
    let executions = Arc::new(Executions::default());
    let model = Arc::clone(&executions);
    let server = standin(move |request| model.reply(request));
    let runtime = runtime(host(&server.url()));
    let named = |input: &str| StartExecutionConfig {
        name: Some("run-1".into()),
        input: Some(input.into()),
        ..config(ARN)
    };
    let options = options(Some(&server.url()));
    let first = runtime.start(&named(r#"{"n":1}"#), &options).await.unwrap();
    let first = first.expect("the first execution");
    executions.close(&first.execution_arn);
    // The same name with other input, after a 503: the retry's conflict is real.
    executions.add_fault(Fault::Instead(raw(503, "")));
    let failure = runtime.start(&named(r#"{"n":2}"#), &options).await.unwrap();
    let failure = failure.expect_err("a conflict");
    assert_eq!(failure.attempts, 2);
    let Error::Service(e) = failure.error else {
        panic!("{failure:?}")
    };
    let message = format!("Execution Already Exists: '{}'", first.execution_arn);
    assert_eq!(
        (e.code.as_str(), e.message),
        ("ExecutionAlreadyExists", message)
    );
    let describes = server
        .requests()
        .iter()
        .filter(|r| r.body.starts_with(br#"{"executionArn""#))
        .count();
    assert_eq!(
        (
            executions.start_requests(),
            describes,
            executions.started().len()
        ),
        (3, 1, 1)
    );
}
