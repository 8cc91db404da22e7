//! The component against moto, a Step Functions emulator nobody here wrote, that verifies
//! every request's SigV4 signature against the access keys made through its IAM API. Each
//! outcome is checked with moto's own DescribeExecution, not with what the component says.
//!
//! moto does not accept version- or alias-qualified state machine ARNs in StartExecution,
//! so those stay on the stand-in (`service`,
//! `version_and_alias_qualified_arns_are_sent_as_given`).

use std::process::{Command, Output};

use crate::credentials::Home;
use crate::{runtime, sfn_start_command};
use sfn_host::{
    ClientOptions, Credentials, Error, Execution, HostConfig, ServiceError, StartExecutionConfig,
};
use sfn_test_kit::peers::{Moto, moto, unique, wasmtime, wasmtime_run};
use sfn_test_kit::proxy::LosingProxy;

fn credentials(key_id: &str, secret: &str, token: Option<&str>) -> Option<Credentials> {
    Some(Credentials {
        access_key_id: key_id.to_string(),
        secret_access_key: secret.to_string(),
        session_token: token.map(str::to_string),
    })
}

fn user(moto: &Moto) -> Option<Credentials> {
    credentials(&moto.access_key_id, &moto.secret_access_key, None)
}

fn options(moto: &Moto, credentials: Option<Credentials>) -> ClientOptions {
    ClientOptions {
        credentials,
        endpoint_url: Some(moto.endpoint.clone()),
        ..ClientOptions::default()
    }
}

fn config(arn: &str, name: Option<&str>, input: Option<&str>) -> StartExecutionConfig {
    StartExecutionConfig {
        state_machine_arn: arn.to_string(),
        input: input.map(str::to_string),
        name: name.map(str::to_string),
        ..StartExecutionConfig::default()
    }
}

/// Starts through the embedded component, with only moto's endpoint allowed out.
async fn start(
    config: &StartExecutionConfig,
    credentials: Option<Credentials>,
) -> Result<Execution, Error> {
    let moto = moto().expect("each test checks that moto is set up first");
    let host = {
        let mut c = HostConfig::default();
        c.allowed_endpoint = Some(moto.endpoint.clone());
        c
    };
    runtime(host)
        .start(config, &options(moto, credentials))
        .await
        .expect("the component runs")
        .map_err(|failure| failure.error)
}

fn service_error(result: Result<Execution, Error>) -> ServiceError {
    match result {
        Err(Error::Service(e)) => e,
        other => panic!("expected a service error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_plain_start_is_running_in_moto() {
    let Some(moto) = moto() else { return };
    let execution = start(&config(&moto.state_machine_arn, None, None), user(moto))
        .await
        .unwrap();
    let found = moto.describe(&execution.execution_arn);
    assert_eq!(found["status"], "RUNNING");
    assert_eq!(found["stateMachineArn"], moto.state_machine_arn.as_str());
    // No input means `{}`, which is what the component sends.
    assert_eq!(found["input"], "{}");
    // The component names an unnamed execution with a random UUID (version 4).
    let name = found["name"].as_str().unwrap();
    assert_eq!((name.len(), &name[14..15]), (36, "4"), "{name}");
    assert!(execution.execution_arn.ends_with(name));
    assert!(execution.request_id.is_some());
}

/// A proxy on 127.0.0.1 loses the answer to the first StartExecution after moto started
/// the execution: the retry, with the same generated name and input, gets the running
/// execution back, and moto holds exactly one.
#[tokio::test]
async fn a_lost_answer_is_retried_into_the_one_execution_moto_started() {
    let Some(moto) = moto() else { return };
    let proxy = LosingProxy::start(&moto.endpoint, 1);
    let host = {
        let mut c = HostConfig::default();
        c.allowed_endpoint = Some(proxy.url());
        c
    };
    let options = ClientOptions {
        endpoint_url: Some(proxy.url()),
        ..options(moto, user(moto))
    };
    let input = r#"{"lost": "answer"}"#;
    let config = config(&moto.state_machine_arn, None, Some(input));
    let execution = runtime(host)
        .start(&config, &options)
        .await
        .expect("the component runs")
        .expect("the retry returns the execution");
    assert_eq!((execution.attempts, proxy.forwarded()), (2, 2));
    let found = moto.describe(&execution.execution_arn);
    assert_eq!(
        (&found["status"], &found["input"]),
        (&"RUNNING".into(), &input.into())
    );
    let name = found["name"].as_str().expect("a name").to_string();
    let same: Vec<String> = moto
        .execution_names()
        .into_iter()
        .filter(|n| *n == name)
        .collect();
    assert_eq!(
        same,
        [name],
        "moto holds exactly one execution of this call"
    );
}

#[tokio::test]
async fn name_and_input_arrive_byte_for_byte() {
    let Some(moto) = moto() else { return };
    let name = unique("bytes");
    // Spacing, key order, escapes and non-ASCII text all survive: input is a string.
    let input =
        "{ \"greeting\" : \"héllo wörld ✓ 日本 🚀\",\n  \"n\": 1.50, \"esc\": \"\\u00e9\\\"\" }";
    let execution = start(
        &config(&moto.state_machine_arn, Some(&name), Some(input)),
        user(moto),
    )
    .await
    .unwrap();
    let found = moto.describe(&execution.execution_arn);
    assert_eq!(found["name"], name.as_str());
    assert_eq!(found["input"], input);
    assert!(execution.execution_arn.ends_with(&format!(":{name}")));
}

#[tokio::test]
async fn the_same_name_and_input_twice_is_the_same_execution() {
    let Some(moto) = moto() else { return };
    let name = unique("twice");
    let twice = config(&moto.state_machine_arn, Some(&name), Some(r#"{"n":1}"#));
    let first = start(&twice, user(moto)).await.unwrap();
    let second = start(&twice, user(moto)).await.unwrap();
    assert_eq!(first.execution_arn, second.execution_arn);
}

#[tokio::test]
async fn the_same_name_with_other_input_already_exists() {
    let Some(moto) = moto() else { return };
    let name = unique("exists");
    let arn = &moto.state_machine_arn;
    start(&config(arn, Some(&name), Some(r#"{"n":1}"#)), user(moto))
        .await
        .unwrap();
    let e = service_error(start(&config(arn, Some(&name), Some(r#"{"n":2}"#)), user(moto)).await);
    assert_eq!((e.status, e.code.as_str()), (400, "ExecutionAlreadyExists"));
    assert!(e.message.contains(&name), "{}", e.message);
}

#[tokio::test]
async fn a_trace_header_is_accepted() {
    // moto accepts `traceHeader` but does not keep it (DescribeExecution has no such field
    // there); the stand-in checks that it arrives byte for byte (`service.rs`).
    let Some(moto) = moto() else { return };
    let mut traced = config(&moto.state_machine_arn, Some(&unique("traced")), None);
    traced.trace_header = Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".into());
    let execution = start(&traced, user(moto)).await.unwrap();
    assert_eq!(moto.describe(&execution.execution_arn)["status"], "RUNNING");
}

#[tokio::test]
async fn temporary_credentials_from_assume_role_start_an_execution() {
    let Some(moto) = moto() else { return };
    let (key_id, secret, token) = &moto.session;
    let name = unique("session");
    let execution = start(
        &config(&moto.state_machine_arn, Some(&name), None),
        credentials(key_id, secret, Some(token)),
    )
    .await
    .unwrap();
    assert_eq!(
        moto.describe(&execution.execution_arn)["name"],
        name.as_str()
    );
}

#[tokio::test]
async fn a_wrong_secret_is_signature_does_not_match() {
    let Some(moto) = moto() else { return };
    let wrong = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY";
    let result = start(
        &config(&moto.state_machine_arn, Some(&unique("wrong")), None),
        credentials(&moto.access_key_id, wrong, None),
    )
    .await;
    let e = service_error(result);
    // moto answers this one in XML, not JSON; the code and message still come through.
    assert_eq!((e.status, e.code.as_str()), (403, "SignatureDoesNotMatch"));
    assert!(
        e.message
            .starts_with("The request signature we calculated does not match"),
        "{}",
        e.message
    );
    assert!(!format!("{e:?}").contains(wrong));
}

#[tokio::test]
async fn an_unknown_state_machine_does_not_exist() {
    let Some(moto) = moto() else { return };
    let e = service_error(
        start(
            &config(&moto.unknown_state_machine(), None, None),
            user(moto),
        )
        .await,
    );
    assert_eq!(
        (e.status, e.code.as_str()),
        (400, "StateMachineDoesNotExist")
    );
    assert!(e.message.contains("NoSuchMachine"), "{}", e.message);
}

/// Runs a command-line front end with moto's user key in the environment.
fn run_cli(mut command: Command, args: &[&str]) -> Output {
    command.args(args).output().expect("the command runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `sfn-start` (native host) and `wasmtime run` (command component) take the same flags and
/// print the same things; this checks one of them against moto.
fn cli_starts_and_reports_conflicts(front_end: impl Fn(&Moto, &[&str]) -> Output) {
    let Some(moto) = moto() else { return };
    let name = unique("cli");
    let input = r#"{"from":"the command line ✓"}"#;
    let arn = moto.state_machine_arn.as_str();
    let args = [
        "--state-machine-arn",
        arn,
        "--name",
        &name,
        "--input",
        input,
        "--endpoint-url",
        &moto.endpoint,
    ];
    let output = front_end(moto, &args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let execution_arn = printed["executionArn"].as_str().unwrap();
    let found = moto.describe(execution_arn);
    assert_eq!(
        (&found["name"], &found["input"]),
        (&name.as_str().into(), &input.into())
    );
    assert_eq!(
        text(&output.stderr),
        format!(
            "Starting execution for state machine {arn}...\n\
             Execution started successfully with ARN {execution_arn}\n"
        )
    );

    // The same name with other input: exit status 1 and the service's words.
    let mut again = args.to_vec();
    again[5] = r#"{"other":true}"#;
    let output = front_end(moto, &again);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "error: could not start execution for state machine {arn}: ExecutionAlreadyExists: "
        )) && stderr.contains("(HTTP 400, request id "),
        "{stderr}"
    );
    assert!(!stderr.contains(&moto.secret_access_key));
    assert!(output.stdout.is_empty());

    // Invalid arguments: exit status 2, nothing sent.
    let output = front_end(moto, &["--state-machine-arn", "arn:aws:states:nope"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("error: invalid arguments:\n  state_machine_arn: "),
        "{stderr}"
    );
}

#[test]
fn sfn_start_against_moto() {
    cli_starts_and_reports_conflicts(|moto, args| {
        let mut command = sfn_start_command();
        command
            .env("AWS_ACCESS_KEY_ID", &moto.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &moto.secret_access_key);
        run_cli(command, args)
    });
}

#[test]
fn wasmtime_run_against_moto() {
    if wasmtime().is_none() {
        return;
    }
    cli_starts_and_reports_conflicts(|moto, args| {
        // Only the variables named with --env reach the component.
        let variables = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
        let mut command = wasmtime_run(sfn_host::COMMAND_WASM, &variables, &[])
            .expect("wasmtime was found above");
        command
            .env("AWS_ACCESS_KEY_ID", &moto.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &moto.secret_access_key);
        run_cli(command, args)
    });
}

/// `sfn-start` against moto with a home and environment of its own; moto is also the STS.
fn start_with(moto: &Moto, home: &Home, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = sfn_start_command();
    command
        .env("HOME", home.dir())
        .env("AWS_ENDPOINT_URL_STS", &moto.endpoint)
        .envs(env.iter().copied())
        .args(["--state-machine-arn", &moto.state_machine_arn])
        .args(["--endpoint-url", &moto.endpoint])
        .args(args);
    command.output().expect("sfn-start runs")
}

/// The execution a successful run printed, as moto describes it.
fn started_in_moto(moto: &Moto, output: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    moto.describe(printed["executionArn"].as_str().unwrap())
}

#[test]
fn an_assume_role_profile_gets_its_credentials_from_moto_sts() {
    let Some(moto) = moto() else { return };
    let home = Home::new(
        &format!(
            "[profile user]\nregion = us-east-1\n[profile deploy]\nregion = us-east-1\nrole_arn = {}\nsource_profile = user\nrole_session_name = sfn-start-test\n",
            moto.role_arn
        ),
        &format!(
            "[user]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            moto.access_key_id, moto.secret_access_key
        ),
    );
    let name = unique("assumed");
    let output = start_with(moto, &home, &[], &["--profile", "deploy", "--name", &name]);
    // moto checked the signature made with the role's temporary credentials.
    assert_eq!(started_in_moto(moto, &output)["name"], name.as_str());
}
