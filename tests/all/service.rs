//! The real component, through the host library, against the Step Functions stand-in on
//! 127.0.0.1: every request's signature is verified by the stand-in's own SigV4 code, and
//! every answer Step Functions (or something in front of it) can give is turned into the
//! exact result or error.
//!
//! moto, the emulator, refuses version- and alias-qualified ARNs in StartExecution, so
//! those forms are proven here on the stand-in.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::{attempted, config, host, once, options, runtime, standin, success};
use sfn_host::{ClientOptions, Error, Execution, ServiceError, StartExecutionConfig};
use sfn_test_kit::service::{Executions, execution_arn};
use sfn_test_kit::sigv4::Credential;
use sfn_test_kit::standin::{CHECK_FAILED_REQUEST_ID, Recorded, Reply, StandIn};
use sfn_test_kit::{AKID, ARN, EXECUTION_ARN, SECRET, TOKEN};

/// Starts `config` against `server` with the standard test credentials, in one attempt:
/// these tests are about what one answer becomes (`faults` is about retries).
async fn start(server: &StandIn, config: &StartExecutionConfig) -> Result<Execution, Error> {
    let result = runtime(host(&server.url()))
        .start(config, &once(options(Some(&server.url()))))
        .await
        .expect("the call completes");
    attempted(result, 1)
}

/// The name the component gave a call that had none: a random UUID, version 4.
fn generated_name(request: &Recorded) -> String {
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    let name = body["name"]
        .as_str()
        .expect("every start carries a name")
        .to_string();
    let groups: Vec<usize> = name.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{name}");
    assert!(
        name.chars()
            .all(|c| matches!(c, '0'..='9' | 'a'..='f' | '-')),
        "{name}"
    );
    assert_eq!(&name[14..15], "4", "version 4: {name}");
    assert!(
        matches!(&name[19..20], "8" | "9" | "a" | "b"),
        "RFC 4122 variant: {name}"
    );
    name
}

fn only_request(server: &StandIn) -> Recorded {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = requests.into_iter().next().unwrap();
    assert_eq!(request.check, Ok(()), "the stand-in accepted the request");
    request
}

fn service(status: u16, code: &str, message: &str, request_id: Option<&str>) -> Error {
    Error::Service(ServiceError {
        status,
        code: code.into(),
        message: message.into(),
        request_id: request_id.map(str::to_string),
    })
}

#[tokio::test]
async fn starts_an_execution_with_a_verified_signature() {
    let server = standin(success);
    let execution = start(&server, &config(ARN)).await;
    assert_eq!(
        execution,
        Ok(Execution {
            execution_arn: EXECUTION_ARN.into(),
            start_date_epoch_ms: 1_686_509_515_191,
            request_id: Some("req-ok".into()),
            attempts: 1,
        })
    );
    let request = only_request(&server);
    let name = generated_name(&request);
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/")
    );
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        format!(
            r#"{{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld","input":"{{}}","name":"{name}"}}"#
        )
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    assert_eq!(
        request.header("x-amz-target"),
        Some("AWSStepFunctions.StartExecution")
    );
    assert_eq!(request.header("content-length"), Some("142"));
    assert_eq!(
        request.header("host"),
        Some(server.addr().to_string().as_str())
    );
    assert_eq!(request.header("transfer-encoding"), None);
}

#[tokio::test]
async fn name_trace_header_and_input_arrive_byte_for_byte() {
    let server = standin(success);
    let input = "{ \"greeting\": \"grüß dich, 世界 🌍\",\n  \"n\": 1.50 }";
    let config = StartExecutionConfig {
        input: Some(input.into()),
        name: Some("nightly-ü-42".into()),
        trace_header: Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".into()),
        region: Some("us-east-1".into()),
        ..config(ARN)
    };
    assert!(start(&server, &config).await.is_ok());
    let body: serde_json::Value = serde_json::from_slice(&only_request(&server).body).unwrap();
    assert_eq!(body["input"], input);
    assert_eq!(body["name"], "nightly-ü-42");
    assert_eq!(
        body["traceHeader"],
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    );
}

#[tokio::test]
async fn the_largest_input_is_sent_whole() {
    let server = standin(success);
    let input = format!("\"{}\"", "x".repeat(262_142));
    let config = StartExecutionConfig {
        input: Some(input.clone()),
        ..config(ARN)
    };
    assert!(start(&server, &config).await.is_ok());
    let request = only_request(&server);
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["input"].as_str().map(str::len), Some(input.len()));
}

#[tokio::test]
async fn temporary_credentials_send_a_signed_session_token() {
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        success,
    );
    let result = runtime(host(&server.url()))
        .start(&config(ARN), &once(options(Some(&server.url()))))
        .await
        .unwrap();
    let result = attempted(result, 1);
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        only_request(&server).header("x-amz-security-token"),
        Some(TOKEN)
    );
}

#[tokio::test]
async fn version_and_alias_qualified_arns_are_sent_as_given() {
    for arn in [format!("{ARN}:10"), format!("{ARN}:PROD")] {
        let server = standin(success);
        assert!(start(&server, &config(&arn)).await.is_ok());
        let body: serde_json::Value = serde_json::from_slice(&only_request(&server).body).unwrap();
        assert_eq!(body["stateMachineArn"], arn.as_str());
    }
}

#[tokio::test]
async fn start_dates_in_other_number_forms() {
    for (date, ms) in [
        ("1686509515", 1_686_509_515_000),
        ("1686509515.5", 1_686_509_515_500),
        ("1.686509515191e+9", 1_686_509_515_191),
    ] {
        let server = standin(move |_| Reply::success(EXECUTION_ARN, date, "r"));
        let execution = start(&server, &config(ARN)).await.unwrap();
        assert_eq!(execution.start_date_epoch_ms, ms, "{date}");
    }
}

#[tokio::test]
async fn every_modeled_error_is_a_structured_service_error() {
    let codes = [
        "ExecutionLimitExceeded",
        "ExecutionAlreadyExists",
        "InvalidArn",
        "InvalidExecutionInput",
        "InvalidName",
        "StateMachineDoesNotExist",
        "StateMachineDeleting",
        "ValidationException",
        "KmsAccessDeniedException",
        "KmsInvalidStateException",
        "KmsThrottlingException",
    ];
    for code in codes {
        let server = standin(move |_| {
            Reply::error(
                400,
                &format!("com.amazonaws.swf.service.v2.model#{code}"),
                &format!("{code} happened"),
                "req-err",
            )
        });
        assert_eq!(
            start(&server, &config(ARN)).await,
            Err(service(
                400,
                code,
                &format!("{code} happened"),
                Some("req-err")
            )),
        );
    }
}

#[tokio::test]
async fn throttling_and_server_failures() {
    let cases: [(Reply, Error); 4] = [
        (
            Reply::error(400, "ThrottlingException", "Rate exceeded", "req-t"),
            service(400, "ThrottlingException", "Rate exceeded", Some("req-t")),
        ),
        (
            Reply::error(500, "InternalFailure", "internal error", "req-500"),
            service(500, "InternalFailure", "internal error", Some("req-500")),
        ),
        (
            Reply::Raw {
                status: 503,
                headers: vec![],
                body: vec![],
            },
            service(503, "ServiceUnavailable", "empty response body", None),
        ),
        (
            Reply::Raw {
                status: 429,
                headers: vec![(
                    "x-amzn-ErrorType".into(),
                    "TooManyRequestsException:http://internal/".into(),
                )],
                body: b"{}".to_vec(),
            },
            service(
                429,
                "TooManyRequestsException",
                "the error response carries no message",
                None,
            ),
        ),
    ];
    for (reply, expected) in cases {
        let server = standin(move |_| reply.clone());
        assert_eq!(start(&server, &config(ARN)).await, Err(expected));
    }
}

#[tokio::test]
async fn xml_and_html_bodies_still_give_a_code_and_message() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error><RequestId>xml-req-1</RequestId></ErrorResponse>";
    let html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    let cases = [
        (
            403,
            "text/xml",
            xml,
            service(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                Some("xml-req-1"),
            ),
        ),
        (
            502,
            "text/html",
            html,
            service(502, "BadGateway", "502 Bad Gateway", None),
        ),
    ];
    for (status, content_type, body, expected) in cases {
        let server = standin(move |_| Reply::Raw {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        });
        assert_eq!(start(&server, &config(ARN)).await, Err(expected));
    }
}

#[tokio::test]
async fn a_2xx_that_is_not_a_result_is_an_invalid_response() {
    let server = standin(|_| Reply::Raw {
        status: 200,
        headers: vec![],
        body: b"<html>hello</html>".to_vec(),
    });
    assert_eq!(
        start(&server, &config(ARN)).await,
        Err(Error::InvalidResponse("HTTP 200 body is not a StartExecution result (expected value at line 1 column 1): hello".into()))
    );
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let server = standin(|_| Reply::Drop);
    assert_eq!(
        start(&server, &config(ARN)).await,
        Err(Error::Transport(format!(
            "request to {}/ failed: connection closed before a response",
            server.url()
        )))
    );
}

#[tokio::test]
async fn nothing_listening_is_a_transport_error() {
    let server = standin(success);
    let url = server.url();
    drop(server);
    let result = runtime(host(&url))
        .start(&config(ARN), &once(options(Some(&url))))
        .await
        .unwrap();
    let result = attempted(result, 1);
    assert_eq!(
        result,
        Err(Error::Transport(format!(
            "request to {url}/ failed: connection refused"
        )))
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_signature_check() {
    let server = StandIn::start(
        vec![Credential::new(AKID, "the-real-secret").with_session_token(TOKEN)],
        success,
    );
    let result = start(&server, &config(ARN)).await;
    let Err(Error::Service(e)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(
        (e.status, e.code.as_str()),
        (400, "InvalidSignatureException")
    );
    assert_eq!(e.request_id.as_deref(), Some(CHECK_FAILED_REQUEST_ID));
    assert!(e.message.starts_with("signature mismatch"), "{}", e.message);
    assert!(!e.message.contains(SECRET) && !e.message.contains("the-real-secret"));
}

#[tokio::test]
async fn a_stale_clock_is_refused_by_the_signature_check() {
    let server = standin(success);
    let stale = {
        let mut c = host(&server.url());
        c.wall_clock = Some(UNIX_EPOCH + Duration::from_secs(1_440_938_160));
        c
    };
    let result = runtime(stale)
        .start(&config(ARN), &once(options(Some(&server.url()))))
        .await
        .unwrap();
    let result = attempted(result, 1);
    let Err(Error::Service(e)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(
        (e.status, e.code.as_str()),
        (400, "InvalidSignatureException")
    );
    assert!(e.message.contains("20150830T123600Z"), "{}", e.message);
}

#[tokio::test]
async fn secrets_echoed_by_the_server_are_scrubbed() {
    let server = StandIn::start(
        vec![Credential::new(AKID, SECRET).with_session_token(TOKEN)],
        |_| {
            Reply::error(
                403,
                "SignatureDoesNotMatch",
                &format!("canonical request had x-amz-security-token:{TOKEN} and key {SECRET}"),
                "r",
            )
        },
    );
    let result = runtime(host(&server.url()))
        .start(&config(ARN), &once(options(Some(&server.url()))))
        .await
        .unwrap();
    let result = attempted(result, 1);
    assert_eq!(
        result,
        Err(service(
            403,
            "SignatureDoesNotMatch",
            "canonical request had x-amz-security-token:*** and key ***",
            Some("r")
        ))
    );
}

#[tokio::test]
async fn the_outbound_policy_refuses_hosts_outside_the_allow_list() {
    let server = standin(success);
    // The component is told to use the stand-in, but the host was not configured to allow it.
    let result = runtime({
        let mut c = host(&server.url());
        c.allowed_endpoint = None;
        c
    })
    .start(&config(ARN), &once(options(Some(&server.url()))))
    .await
    .unwrap();
    let result = attempted(result, 1);
    // The component learns only that the host denied it; the host adds which origin and why.
    assert_eq!(
        result,
        Err(Error::Transport(format!(
            "request to {}/ failed: refused by the host's outbound policy: outbound request to {} refused: only the Step Functions endpoints and the configured endpoint are allowed",
            server.url(),
            server.url(),
        )))
    );
    assert_eq!(server.requests(), []);
}

#[tokio::test]
async fn the_endpoint_can_come_from_the_environment() {
    let server = standin(success);
    let mut host = host(&server.url());
    host.env.push(("AWS_ENDPOINT_URL_SFN".into(), server.url()));
    let result = runtime(host)
        .start(&config(ARN), &options(None))
        .await
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    only_request(&server);
}

#[tokio::test]
async fn invalid_arguments_send_nothing() {
    let server = standin(success);
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:a b";
    let result = runtime(host(&server.url()))
        .start(&config(arn), &options(Some(&server.url())))
        .await
        .unwrap();
    let result = attempted(result, 0);
    assert!(matches!(result, Err(Error::InvalidConfig(_))), "{result:?}");
    assert_eq!(server.requests(), []);
}

#[tokio::test]
async fn the_call_deadline_covers_a_server_that_does_not_answer() {
    // It never answers: no upper bound of the test can race the server.
    let server = standin(|_| Reply::Hang);
    // The host's own bound stays far off, so that only the call's deadline can end it.
    let patient = {
        let mut c = host(&server.url());
        c.timeout = Duration::from_secs(60);
        c
    };
    let impatient = ClientOptions {
        timeout_ms: Some(500),
        ..options(Some(&server.url()))
    };
    let started = std::time::Instant::now();
    let result = runtime(patient)
        .start(&config(ARN), &impatient)
        .await
        .expect("the component reports the timeout itself");
    let waited = started.elapsed();
    // The call's deadline bounds it, retries included; the component names it.
    assert_eq!(
        attempted(result, 1),
        Err(Error::Transport(format!(
            "request to {}/ failed: waiting for the response: the call's timeout of 500ms passed",
            server.url()
        )))
    );
    // Not before the deadline; after it, within seconds (a loaded 2-core machine schedules
    // late).
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}

/// A stand-in that answers as the service's model of executions does.
fn modelled() -> (StandIn, Arc<Executions>) {
    let executions = Arc::new(Executions::default());
    let model = Arc::clone(&executions);
    (standin(move |request| model.reply(request)), executions)
}

fn named(name: &str, input: &str) -> StartExecutionConfig {
    StartExecutionConfig {
        name: Some(name.into()),
        input: Some(input.into()),
        ..config(ARN)
    }
}

#[tokio::test]
async fn the_same_name_and_input_return_the_running_execution_again() {
    let (server, executions) = modelled();
    let first = start(&server, &named("run-1", r#"{"a":1}"#)).await;
    let again = start(&server, &named("run-1", r#"{"a":1}"#)).await;
    let first = first.expect("started");
    let again = again.expect("the same execution");
    assert_eq!(
        (&again.execution_arn, again.start_date_epoch_ms),
        (&first.execution_arn, first.start_date_epoch_ms)
    );
    assert_eq!(first.execution_arn, execution_arn(ARN, "run-1"));
    assert_eq!(executions.started().len(), 1);
}

#[tokio::test]
async fn a_used_name_with_other_input_or_a_closed_execution_already_exists() {
    let (server, executions) = modelled();
    let first = start(&server, &named("run-1", r#"{"a":1}"#)).await.unwrap();
    let exists = |request_id: &str| {
        let message = format!("Execution Already Exists: '{}'", first.execution_arn);
        service(400, "ExecutionAlreadyExists", &message, Some(request_id))
    };
    // The input is compared as sent: the same JSON value spaced otherwise is other input.
    let spaced = start(&server, &named("run-1", r#"{"a": 1}"#)).await;
    assert_eq!(spaced, Err(exists("model-1")));
    executions.close(&first.execution_arn);
    let closed = start(&server, &named("run-1", r#"{"a":1}"#)).await;
    assert_eq!(closed, Err(exists("model-1")));
    assert_eq!(executions.started().len(), 1);
}

#[tokio::test]
async fn starts_without_a_name_are_new_executions_each_time() {
    let (server, executions) = modelled();
    let first = start(&server, &config(ARN)).await.unwrap();
    let second = start(&server, &config(ARN)).await.unwrap();
    assert_ne!(first.execution_arn, second.execution_arn);
    let inputs: Vec<String> = executions.started().into_iter().map(|e| e.input).collect();
    assert_eq!(
        inputs,
        ["{}", "{}"],
        "the component sends Terraform's default input"
    );
}

/// Hands out the standard test credentials after `delay`, as an STS call would.
#[derive(Debug)]
struct Slow(Duration);

impl aws_credential_types::provider::ProvideCredentials for Slow {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            tokio::time::sleep(self.0).await;
            Ok(aws_credential_types::Credentials::new(
                AKID,
                sfn_test_kit::SECRET,
                Some(TOKEN.to_string()),
                None,
                "slow",
            ))
        })
    }
}

#[tokio::test]
async fn time_spent_resolving_credentials_comes_out_of_the_components_timeout() {
    let server = standin(|_| Reply::Hang);
    let host = {
        let mut c = host(&server.url());
        c.env = vec![];
        c.timeout = Duration::from_secs(2);
        c.credentials = sfn_host::CredentialSource::Chain(
            sfn_host::shared_config::Chain::from_provider(Slow(Duration::from_millis(400))),
        );
        c
    };
    let started = std::time::Instant::now();
    let result = runtime(host)
        .start(&config(ARN), &options(Some(&server.url())))
        .await
        .expect("the component reports the timeout itself, within the host's bound");
    let failure = result.expect_err("nothing answers");
    let Error::Transport(message) = &failure.error else {
        panic!("{failure:?}")
    };
    // What was left of the two seconds after the credentials: at most 1,600 ms, however
    // late the machine ran them.
    // (A `Duration` as Rust shows it: `597ms` or `1.597s`.)
    let rest = message.rsplit("the call's timeout of ").next();
    let rest = rest.and_then(|r| r.strip_suffix(" passed"));
    let left: f64 = match rest {
        Some(ms) if ms.ends_with("ms") => ms.trim_end_matches("ms").parse().ok(),
        Some(s) => s
            .trim_end_matches('s')
            .parse::<f64>()
            .ok()
            .map(|s| s * 1000.0),
        None => None,
    }
    .unwrap_or_else(|| panic!("{message}"));
    assert!(left > 0.0 && left <= 1600.0, "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
