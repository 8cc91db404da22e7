//! Past the start: waiting for an execution's outcome (DescribeExecution polls) and running
//! EXPRESS machines synchronously (StartSyncExecution), through the library and both
//! command-line front ends, against the stand-in and a moto that runs state machines.

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use sfn_host::{Error, Outcome, StartExecutionConfig};
use sfn_test_kit::peers::{Moto, running_moto, unique, wasmtime, wasmtime_run};
use sfn_test_kit::standin::{DESCRIBE_TARGET, Recorded, Reply, SYNC_TARGET, StandIn};
use sfn_test_kit::{AKID, ARN, EXECUTION_ARN, SECRET, TOKEN};

use crate::{config, host, options, runtime, sfn_start_command, standin};

fn target(request: &Recorded) -> &str {
    request.header("x-amz-target").unwrap_or_default()
}

/// An ended express execution, as StartSyncExecution answers.
fn sync_answer(status: &str, extra: &str) -> Reply {
    let body = format!(
        r#"{{"executionArn":"arn:aws:states:us-east-1:123456789012:express:HelloWorld:run-1:2f0c","stateMachineArn":"{ARN}","startDate":1.7e9,"stopDate":1700000000.25,"status":"{status}"{extra}}}"#
    );
    Reply::json(200, &body, "req-sync")
}

const BILLED: &str = r#","output":"{\"ok\": true}","billingDetails":{"billedMemoryUsedInMB":64,"billedDurationInMilliseconds":300}"#;

#[tokio::test]
async fn start_sync_goes_to_the_custom_endpoint_as_given_and_returns_the_result() {
    let server = standin(|r| match target(r) {
        SYNC_TARGET => sync_answer("SUCCEEDED", BILLED),
        _ => Reply::error(400, "UnknownOperation", "not here", "req-x"),
    });
    let url = server.url();
    let outcome = runtime(host(&url))
        .start_sync(&config(ARN), &options(Some(&url)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome.status, "SUCCEEDED");
    assert_eq!(outcome.output.as_deref(), Some(r#"{"ok": true}"#));
    assert_eq!(
        (outcome.start_date_epoch_ms, outcome.stop_date_epoch_ms),
        (1_700_000_000_000, Some(1_700_000_000_250))
    );
    let billing = outcome.billing.unwrap();
    assert_eq!(
        (billing.billed_memory_used_mb, billing.billed_duration_ms),
        (64, 300)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    // No sync- prefix on a custom endpoint: the stand-in at 127.0.0.1 got it, signed for
    // its own host, and checked the signature.
    assert_eq!(requests[0].header("host"), Some(&url["http://".len()..]));
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"stateMachineArn": ARN, "input": "{}"})
    );
}

#[tokio::test]
async fn a_sync_answer_that_may_have_run_is_not_retried_but_a_throttle_is() {
    let answers = Arc::new(Mutex::new(vec![
        sync_answer("SUCCEEDED", ""),
        Reply::error(503, "ServiceUnavailable", "busy", "r2"),
        Reply::error(400, "ThrottlingException", "slow down", "r1"),
    ]));
    let next = Arc::clone(&answers);
    let server = standin(move |_| next.lock().unwrap().pop().unwrap());
    let url = server.url();
    let runtime = runtime(host(&url));
    let failure = runtime
        .start_sync(&config(ARN), &options(Some(&url)))
        .await
        .unwrap()
        .unwrap_err();
    // The throttle was retried; the 503 ended the call: StartSyncExecution may have run.
    assert_eq!(failure.attempts, 2);
    assert!(matches!(failure.error, Error::Service(ref e) if e.status == 503));
    assert_eq!(server.requests().len(), 2);
}

/// A stand-in whose DescribeExecution answers come from `script` in order, the last one
/// repeated.
fn describing(script: Vec<Reply>) -> StandIn {
    let script = Mutex::new(script.into_iter().rev().collect::<Vec<_>>());
    standin(move |r| {
        assert_eq!(target(r), DESCRIBE_TARGET);
        let mut script = script.lock().unwrap();
        if script.len() > 1 {
            script.pop().unwrap()
        } else {
            script[0].clone()
        }
    })
}

fn described(status: &str, extra: &str) -> Reply {
    let body = format!(
        r#"{{"executionArn":"{EXECUTION_ARN}","stateMachineArn":"{ARN}","status":"{status}","startDate":1700000000{extra}}}"#
    );
    Reply::json(200, &body, &format!("req-{status}"))
}

#[tokio::test]
async fn throttled_and_failing_polls_slow_the_wait_but_do_not_end_it() {
    let server = describing(vec![
        Reply::error(400, "ExecutionDoesNotExist", "not yet", "r0"),
        described("RUNNING", ""),
        Reply::error(400, "ThrottlingException", "Rate exceeded", "r1"),
        Reply::error(400, "ThrottlingException", "Rate exceeded", "r2"),
        Reply::error(500, "InternalFailure", "oops", "r3"),
        described("RUNNING", ""),
        described("SUCCEEDED", r#","stopDate":1700000001,"output":"[1, 2]""#),
    ]);
    let url = server.url();
    let outcome = runtime(host(&url))
        .wait(
            EXECUTION_ARN,
            &crate::once(options(Some(&url))),
            Duration::from_secs(60),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (outcome.status.as_str(), outcome.output.as_deref()),
        ("SUCCEEDED", Some("[1, 2]"))
    );
    assert_eq!((outcome.attempts, server.requests().len()), (7, 7));
    assert_eq!(outcome.request_id.as_deref(), Some("req-SUCCEEDED"));
}

#[tokio::test]
async fn a_wait_that_runs_out_reports_the_execution_still_running() {
    let server = describing(vec![described("RUNNING", "")]);
    let url = server.url();
    let started = std::time::Instant::now();
    let outcome = runtime(host(&url))
        .wait(
            EXECUTION_ARN,
            &options(Some(&url)),
            Duration::from_millis(1200),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome.status, "RUNNING");
    assert!(started.elapsed() >= Duration::from_millis(1200));
    assert!(server.requests().len() >= 2, "polled more than once");
    // A final error is an error.
    let denied = describing(vec![Reply::error(400, "AccessDeniedException", "no", "r")]);
    let url = denied.url();
    let failure = runtime(host(&url))
        .describe(EXECUTION_ARN, &options(Some(&url)))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(failure.error, Error::Service(ref e) if e.code == "AccessDeniedException"));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&output.stdout), text(&output.stderr)))
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// `sfn-start` with the stand-in's credentials.
fn sfn_start(args: &[&str]) -> Output {
    let mut command = sfn_start_command();
    command
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .args(args);
    let output = command.output().expect("sfn-start runs");
    crate::secret_free(output)
}

#[test]
fn cli_sync_prints_the_outcome_and_hints_at_wait_for_standard_machines() {
    let server = standin(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        match body["input"].as_str() {
            Some("\"fail\"") => sync_answer("FAILED", r#","error":"E","cause":"C""#),
            Some("\"standard\"") => Reply::error(
                400,
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
                "req-type",
            ),
            _ => sync_answer("SUCCEEDED", BILLED),
        }
    });
    let url = server.url();
    let run = |input: &str| {
        sfn_start(&[
            "--state-machine-arn",
            ARN,
            "--sync",
            "--endpoint-url",
            &url,
            "--input",
            input,
        ])
    };
    let output = run("{}");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed = stdout_json(&output);
    assert_eq!(
        keys(&printed),
        [
            "executionArn",
            "startDate",
            "stopDate",
            "status",
            "output",
            "billingDetails",
            "requestId"
        ]
    );
    assert_eq!(
        (&printed["startDate"], &printed["stopDate"]),
        (
            &"2023-11-14T22:13:20.000Z".into(),
            &"2023-11-14T22:13:20.250Z".into()
        )
    );
    assert_eq!(
        printed["billingDetails"]["billedDurationInMilliseconds"],
        300
    );
    assert_eq!(
        text(&output.stderr),
        format!(
            "Running an express execution of state machine {ARN} synchronously...\n\
             Execution SUCCEEDED after 0.2s\n"
        )
    );
    let output = run("\"fail\"");
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let printed = stdout_json(&output);
    assert_eq!(
        (&printed["error"], &printed["cause"]),
        (&"E".into(), &"C".into())
    );
    assert_eq!(printed.get("output"), None);
    let output = run("\"standard\"");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(": StateMachineTypeNotSupported: "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "hint: --sync runs EXPRESS state machines only; to run a STANDARD one and wait for its outcome, use --wait\n"
        ),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    // --dry-run --sync prints the StartSyncExecution request, for the endpoint as given.
    let output = sfn_start(&[
        "--state-machine-arn",
        ARN,
        "--sync",
        "--dry-run",
        "--endpoint-url",
        &url,
    ]);
    let printed = stdout_json(&output);
    assert_eq!(printed["headers"]["x-amz-target"], SYNC_TARGET);
    assert_eq!(printed["url"], format!("{url}/"));
}

/// moto gives an EXPRESS machine's execution a STANDARD `:execution:` ARN and describes it;
/// AWS gives it an `:express:` ARN that DescribeExecution refuses. The stand-in answers as AWS.
#[test]
fn waiting_for_an_express_execution_is_refused_with_a_hint_at_sync() {
    let express = "arn:aws:states:us-east-1:123456789012:express:HelloWorld:run-1:0c4f2e1a";
    let server = standin(move |_| Reply::success(express, "1.7e9", "req-start"));
    let url = server.url();
    let output = sfn_start(&["--state-machine-arn", ARN, "--wait", "--endpoint-url", &url]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.ends_with(&format!(
            "error: could not wait for execution {express}: execution_arn: is an EXPRESS execution's: Step Functions does not record express executions, so they cannot be described or waited for; run the state machine with StartSyncExecution (--sync) to get its outcome\n"
        )),
        "{stderr}"
    );
    // Only the StartExecution: nothing was polled.
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(target(&requests[0]), sfn_test_kit::standin::TARGET);
}

#[test]
fn wait_flags_are_checked_before_anything_is_sent() {
    for (args, complaint) in [
        (
            vec!["--wait-timeout", "5"],
            "the following required arguments were not provided:\n  --wait",
        ),
        (
            vec!["--wait", "--sync"],
            "the argument '--wait' cannot be used with '--sync'",
        ),
        (
            vec!["--wait", "--wait-timeout", "0"],
            "must be a number of seconds, more than 0",
        ),
    ] {
        let mut all = vec!["--state-machine-arn", ARN];
        all.extend(args);
        let output = sfn_start(&all);
        assert_eq!(output.status.code(), Some(2));
        let stderr = text(&output.stderr);
        assert!(stderr.contains(complaint), "{stderr}");
    }
}

/// Runs one of the command-line front ends with moto's user key.
type FrontEnd<'a> = &'a dyn Fn(&Moto, &[&str]) -> Output;

fn start_and_wait(
    moto: &Moto,
    front_end: FrontEnd,
    machine: &str,
    input: &str,
    extra: &[&str],
) -> Output {
    let arn = &moto.machines[machine];
    let mut args = vec![
        "--state-machine-arn",
        arn,
        "--input",
        input,
        "--endpoint-url",
        &moto.endpoint,
        "--wait",
    ];
    args.extend(extra);
    front_end(moto, &args)
}

/// What moto's own DescribeExecution (through botocore) says of the execution printed.
fn moto_says(moto: &Moto, printed: &Value) -> Value {
    moto.describe(printed["executionArn"].as_str().unwrap())
}

/// Pass, Fail, Choice and Wait machines run by moto, waited for through `front_end`.
fn waits_for_every_kind_of_ending(front_end: FrontEnd) {
    let Some(moto) = running_moto() else { return };
    // Pass: SUCCEEDED, with the output byte for byte as moto has it.
    let output = start_and_wait(moto, front_end, "Pass", r#"{"x": "ü"}"#, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed = stdout_json(&output);
    assert_eq!(
        keys(&printed),
        [
            "executionArn",
            "startDate",
            "stopDate",
            "status",
            "output",
            "requestId"
        ]
    );
    let theirs = moto_says(moto, &printed);
    assert_eq!(printed["status"], "SUCCEEDED");
    assert_eq!(printed["output"], theirs["output"], "byte for byte");
    let value: Value = serde_json::from_str(printed["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"x": "ü", "result": {"greeting": "héllo 🚀", "n": [1, 2.5, null]}})
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("\nWaiting up to 3600.0s for the execution to end...\n"),
        "{stderr}"
    );
    assert!(stderr.contains("\nExecution SUCCEEDED after "), "{stderr}");

    // Fail: FAILED with its error and cause, exit status 3.
    let output = start_and_wait(moto, front_end, "Fail", "{}", &[]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let printed = stdout_json(&output);
    let theirs = moto_says(moto, &printed);
    assert_eq!(
        (&printed["status"], &printed["error"], &printed["cause"]),
        (
            &"FAILED".into(),
            &"Custom.Broken".into(),
            &r#"it went "wrong""#.into()
        )
    );
    assert_eq!(
        (&printed["error"], &printed["cause"]),
        (&theirs["error"], &theirs["cause"])
    );
    assert_eq!(printed.get("output"), None);

    // Choice: each branch.
    let output = start_and_wait(moto, front_end, "Choice", r#"{"n": 2}"#, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed = stdout_json(&output);
    assert_eq!(printed["output"], moto_says(moto, &printed)["output"]);
    let value: Value = serde_json::from_str(printed["output"].as_str().unwrap()).unwrap();
    assert_eq!(value, serde_json::json!({"size": "big"}));
    let output = start_and_wait(moto, front_end, "Choice", r#"{"n": 1}"#, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert_eq!(stdout_json(&output)["error"], "Too.Small");

    // Wait (2 s): a shorter wait ends with it RUNNING, exit status 4; a longer one sees it end.
    let output = start_and_wait(moto, front_end, "Wait", "{}", &["--wait-timeout", "0.5"]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    let printed = stdout_json(&output);
    assert_eq!(
        keys(&printed),
        ["executionArn", "startDate", "status", "requestId"]
    );
    assert_eq!(printed["status"], "RUNNING");
    let stderr = text(&output.stderr);
    // After its half second (a loaded machine may take seconds more to say so).
    assert!(stderr.contains("\nStopped waiting after "), "{stderr}");
    assert!(
        stderr.ends_with("s: the execution is still RUNNING\n"),
        "{stderr}"
    );
    let output = start_and_wait(moto, front_end, "Wait", "{}", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

fn native(moto: &Moto, args: &[&str]) -> Output {
    let mut command = sfn_start_command();
    command
        .env("AWS_ACCESS_KEY_ID", &moto.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &moto.secret_access_key)
        .args(args);
    command.output().expect("sfn-start runs")
}

fn wasi(moto: &Moto, args: &[&str]) -> Output {
    let variables = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
    let mut command: Command = wasmtime_run(sfn_host::COMMAND_WASM, &variables, &[])
        .expect("each test checks for wasmtime first");
    command
        .env("AWS_ACCESS_KEY_ID", &moto.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &moto.secret_access_key)
        .args(args);
    command.output().expect("wasmtime runs")
}

#[test]
fn sfn_start_waits_for_moto_executions() {
    waits_for_every_kind_of_ending(&native);
}

#[test]
fn wasmtime_run_waits_for_moto_executions() {
    if wasmtime().is_none() {
        return;
    }
    waits_for_every_kind_of_ending(&wasi);
}

#[tokio::test]
async fn the_library_waits_with_temporary_credentials() {
    let Some(moto) = running_moto() else { return };
    let (key, secret, token) = moto.session.clone();
    let host = {
        let mut c = sfn_host::HostConfig::default();
        c.allowed_endpoint = Some(moto.endpoint.clone());
        c
    };
    let options = sfn_host::ClientOptions {
        credentials: Some(sfn_host::Credentials {
            access_key_id: key,
            secret_access_key: secret,
            session_token: Some(token),
        }),
        ..options(Some(&moto.endpoint))
    };
    let runtime = runtime(host);
    let config = StartExecutionConfig {
        name: Some(unique("lib-wait")),
        ..config(&moto.machines["Pass"])
    };
    let started = runtime.start(&config, &options).await.unwrap().unwrap();
    let arn = started.execution_arn;
    let outcome: Outcome = runtime
        .wait(&arn, &options, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome.status, "SUCCEEDED");
    let described = runtime.describe(&arn, &options).await.unwrap().unwrap();
    assert_eq!(described.output, outcome.output);
    assert_eq!(described.attempts, 1);
}

/// StartSyncExecution answers when the express execution ends, minutes later: the host's
/// read timeout, which bounds every other answer's first byte, must not cut it off.
#[tokio::test]
async fn a_sync_answer_may_take_longer_than_the_read_timeout() {
    // Well past the read timeout, so that the read timeout, not the answer, comes first for
    // StartExecution even on a loaded machine.
    let late = Duration::from_secs(4);
    let server = standin(move |r| {
        let answer = match target(r) {
            SYNC_TARGET => sync_answer("SUCCEEDED", ""),
            _ => Reply::success(EXECUTION_ARN, "1.7e9", "req-start"),
        };
        Reply::Late(late, Box::new(answer))
    });
    let url = server.url();
    let quick = {
        let mut c = host(&url);
        c.io_timeouts = sfn_host::Timeouts {
            connect: Duration::from_secs(1),
            read: Duration::from_secs(1),
        };
        c
    };
    let runtime = runtime(quick);
    let once = crate::once(options(Some(&url)));
    let outcome = runtime.start_sync(&config(ARN), &once).await.unwrap();
    assert_eq!(outcome.unwrap().status, "SUCCEEDED");
    // The same wait for StartExecution's answer is a read timeout.
    let failure = runtime
        .start(&config(ARN), &once)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        failure.error,
        Error::Transport(format!(
            "request to {url}/ failed: timed out waiting for the response"
        ))
    );
}
