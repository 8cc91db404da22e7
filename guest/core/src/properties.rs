//! Property tests (proptest): names, ARNs, responses, retry classification and backoff,
//! attempts that never start a second execution, waits that end on time, and the whole core
//! never panicking.
//!
//! Each test's case count is `PROPTEST_CASES` if set, else the count written here, small
//! enough for CI; `PROPTEST_CASES=0` fails every test rather than let it pass unchecked. A failure shrinks to a minimal case, prints its seed, and proptest records
//! it under `proptest-regressions/` (commit that file: the case then runs first, always).
//! The long run is in the README: `PROPTEST_CASES=10000000 cargo test --release -p sfn-core
//! properties`.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config;
use sfn_test_kit::sigv4::{self, Credential};

use crate::io::SendError;
use crate::io::scripted::Scripted;
use crate::retry::{self, THROTTLING_CODES, TIMEOUT_CODES, TRANSIENT_STATUSES};
use crate::types::{ClientOptions, Credentials, Error, ServiceError, StartExecutionConfig};
use crate::wire::{self, Response};
use crate::{arn, name, partition, start};

/// `PROPTEST_CASES`, else `default`; 0 or not a number fails the test (see
/// [`sfn_test_kit::case_count`]).
fn cases(default: u32) -> Config {
    let cases = sfn_test_kit::case_count("PROPTEST_CASES", default.into());
    let cases = u32::try_from(cases).unwrap_or(u32::MAX);
    Config {
        cases,
        ..Config::default()
    }
}

/// Pieces that sit on the rules' edges, glued together, or any text at all.
fn edgy_text() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "arn",
        ":",
        "aws",
        "aws-cn",
        "states",
        "us-east-1",
        "cn-north-1",
        "123456789012",
        "stateMachine",
        "m",
        "/",
        "1",
        "PROD",
        "{",
        "}",
        "[",
        "]",
        "\"",
        "\\",
        "\\u",
        "d800",
        " ",
        "\u{a0}",
        "\n",
        "\r",
        "\u{0}",
        "\u{7f}",
        "\u{fffe}",
        "\u{10ffff}",
        "é",
        "😀",
        "-",
        ".",
        "@",
        "http://",
        "https://",
        "<Code>",
        "</Code>",
        "<title>",
        "1e999",
        "-0",
        "",
    ];
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(PIECES), 0..12).prop_map(|p| p.concat()),
        1 => any::<String>(),
    ]
}

/// Letters, digits, `-` and `_`: characters every name may hold.
fn name_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::char::ranges(vec!['a'..='z', 'A'..='Z', '0'..='9'].into()),
        Just('-'),
        Just('_'),
        prop::sample::select(vec!['é', 'ß', 'Ω', '日', '😀']),
    ]
}

fn valid_name() -> impl Strategy<Value = String> {
    prop::collection::vec(name_char(), 1..=name::MAX_CHARS).prop_map(String::from_iter)
}

/// A region and the partition that holds it: one of every partition.
fn region() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "us-east-1",
        "eu-west-1",
        "cn-north-1",
        "us-gov-west-1",
        "us-iso-east-1",
        "us-isob-east-1",
        "eu-isoe-west-1",
        "us-isof-south-1",
    ])
}

proptest! {
    #![proptest_config(cases(2_000))]

    #[test]
    fn names_of_allowed_characters_up_to_80_are_accepted(name in valid_name()) {
        prop_assert_eq!(name::check(&name), Vec::<String>::new());
    }

    #[test]
    fn longer_names_are_refused_with_their_count(
        name in prop::collection::vec(name_char(), name::MAX_CHARS + 1..=200)
            .prop_map(String::from_iter)
    ) {
        let count = name.chars().count();
        prop_assert_eq!(
            name::check(&name),
            vec![format!("must be at most 80 characters (Unicode scalar values), got {count}")]
        );
    }

    #[test]
    fn a_forbidden_character_is_refused_at_its_byte(
        name in valid_name(),
        at in any::<prop::sample::Index>(),
        bad in prop::sample::select(vec![' ', '\t', '<', '}', '?', '*', '"', '#', ':', '/', '\u{0}', '\u{85}', '\u{ffff}']),
    ) {
        let mut chars: Vec<char> = name.chars().collect();
        chars.truncate(name::MAX_CHARS - 1);
        chars.insert(at.index(chars.len() + 1), bad);
        let name = String::from_iter(chars);
        let byte = name.find(bad).expect("inserted above");
        let problems = name::check(&name);
        prop_assert_eq!(problems.len(), 1, "{:?}", problems);
        let expected_position = format!(" at byte {byte}");
        prop_assert!(problems[0].ends_with(&expected_position), "{}", problems[0]);
    }

    #[test]
    fn well_formed_arns_parse_into_their_parts(
        region in region(),
        account in "[0-9]{12}",
        name in valid_name(),
        version in proptest::option::of(1u32..1_000_000),
    ) {
        let partition = partition::of_region(region).expect("a known region");
        let mut text = format!("arn:{}:states:{region}:{account}:stateMachine:{name}", partition.id);
        if let Some(version) = version {
            text += &format!(":{version}");
        }
        let parsed = arn::parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(
            (parsed.partition.id, parsed.region, parsed.account, parsed.name),
            (partition.id, region, account.as_str(), name.as_str())
        );
        let version = version.map(|v| v.to_string());
        let qualifier = match parsed.qualifier {
            Some(arn::Qualifier::Version(v)) => Some(v.to_string()),
            _ => None,
        };
        prop_assert_eq!(qualifier, version);
    }

    #[test]
    fn any_text_as_an_arn_is_parsed_or_refused_with_reasons(text in edgy_text()) {
        if let Err(problems) = arn::parse(&text) {
            prop_assert!(!problems.is_empty());
        }
    }

    #[test]
    fn a_success_body_gives_its_arn_and_start_date_to_the_millisecond(
        arn in any::<String>(),
        ms in -9_000_000_000_000i64..9_000_000_000_000,
        request_id in proptest::option::of("[a-f0-9-]{1,36}"),
    ) {
        let seconds = ms as f64 / 1000.0;
        let body = format!(
            r#"{{"executionArn":{},"startDate":{seconds}}}"#,
            serde_json::to_string(&arn).expect("strings serialise")
        );
        let mut headers = vec![("content-type".to_string(), "application/x-amz-json-1.0".to_string())];
        if let Some(id) = &request_id {
            headers.push(("x-amzn-RequestId".to_string(), id.clone()));
        }
        let response = Response { status: 200, headers, body: body.into_bytes() };
        let execution = wire::parse_response(&response)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(execution.execution_arn, arn);
        prop_assert_eq!(execution.start_date_epoch_ms, ms);
        prop_assert_eq!(execution.request_id, request_id);
    }

    #[test]
    fn any_answer_is_an_execution_or_a_described_error(
        status in prop_oneof![Just(200u16), Just(400), Just(403), Just(429), Just(500), 0u16..1000],
        body in edgy_text(),
        error_type in proptest::option::of(edgy_text()),
    ) {
        let headers = error_type.map(|t| ("x-amzn-ErrorType".to_string(), t)).into_iter().collect();
        let response = Response { status, headers, body: body.into_bytes() };
        match wire::parse_response(&response) {
            Ok(_) => prop_assert!((200..300).contains(&status)),
            Err(Error::Service(e)) => {
                prop_assert!(!(200..300).contains(&status));
                prop_assert_eq!(e.status, status);
                prop_assert!(!e.code.is_empty());
            }
            Err(Error::InvalidResponse(message)) => prop_assert!(!message.is_empty()),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

/// A `Date` header's text: any IMF-fixdate, HTTP-date shapes with any digits and names, or
/// any text.
fn date_text() -> impl Strategy<Value = String> {
    let any_second = (0u64..253_402_300_800)
        .prop_map(|s| httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(s)));
    prop_oneof![
        any_second,
        "[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
        "(Sun|Mon|Fri), [0-3][0-9] (Jan|Feb|Nov) (1970|2027|9999) [0-2][0-9]:[0-6][0-9]:[0-6][0-9] GMT",
        "[A-Z][a-z]{5,8}, [0-9]{2}-[A-Z][a-z]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
        "[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(cases(5_000))]

    /// Any `Date` header reads as a whole second or as none, and deciding whose the
    /// execution is from it never panics.
    #[test]
    fn any_date_header_is_a_time_or_none(
        date in date_text(),
        start_date_ms in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX)],
        running_ms in any::<u64>(),
    ) {
        let body = r#"{"executionArn":"e","stateMachineArn":"m","status":"RUNNING","startDate":1,"input":"{}"}"#;
        let headers = vec![("Date".to_string(), date)];
        let response = Response { status: 200, headers, body: body.as_bytes().to_vec() };
        let mut described = wire::parse_described(&response)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        if let Some(answered) = described.answered {
            let since = answered.duration_since(std::time::UNIX_EPOCH).ok();
            prop_assert_eq!(since.map(|d| d.subsec_nanos()), Some(0));
        }
        described.outcome.start_date_epoch_ms = start_date_ms;
        crate::idempotency::owner(&described, "{}", Duration::from_millis(running_ms));
    }
}

fn maybe_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(0.7, edgy_text())
}

fn hostile_config() -> impl Strategy<Value = StartExecutionConfig> {
    let valid = "arn:aws:states:us-east-1:123456789012:stateMachine:m".to_string();
    (
        prop_oneof![Just(valid), edgy_text()],
        maybe_text(),
        maybe_text(),
        maybe_text(),
        maybe_text(),
    )
        .prop_map(|(state_machine_arn, input, name, region, trace_header)| {
            StartExecutionConfig {
                state_machine_arn,
                input,
                name,
                region,
                trace_header,
            }
        })
}

fn hostile_options() -> impl Strategy<Value = ClientOptions> {
    let credentials = (edgy_text(), edgy_text(), maybe_text()).prop_map(|(id, secret, token)| {
        Credentials {
            access_key_id: format!("A{id}"),
            // Marked, so that finding it in an error can only mean a leak.
            secret_access_key: format!("SECRET<{secret}>"),
            session_token: token,
        }
    });
    (
        proptest::option::weighted(0.8, credentials),
        proptest::option::weighted(0.3, edgy_text()),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(prop_oneof![0u32..5, any::<u32>()]),
        proptest::option::of(prop_oneof![0u64..5000, any::<u64>()]),
    )
        .prop_map(
            |(credentials, endpoint_url, use_fips, use_dual_stack, max_attempts, timeout_ms)| {
                ClientOptions {
                    credentials,
                    endpoint_url,
                    use_fips,
                    use_dual_stack,
                    max_attempts,
                    timeout_ms,
                }
            },
        )
}

proptest! {
    #![proptest_config(cases(5_000))]

    /// Hostile input through the whole core, from validation to the parsed answer: every
    /// call returns, none panics, and a secret never comes back in an error.
    #[test]
    fn no_input_makes_the_core_panic(
        config in hostile_config(),
        options in hostile_options(),
        env_value in edgy_text(),
        status in prop_oneof![Just(200u16), Just(400), Just(403), Just(500), 0u16..1000],
        body in edgy_text(),
        error_type in edgy_text(),
    ) {
        let env = |name: &str| name.len().is_multiple_of(2).then(|| env_value.clone());
        let answer = Ok(Response {
            status,
            headers: vec![("x-amzn-errortype".into(), error_type.clone())],
            body: body.clone().into_bytes(),
        });
        let mut io = Scripted::new(std::iter::repeat_n(answer, 4));
        let outcome = start(&config, &options, &env, &mut io);
        if let (Err(error), Some(credentials)) = (outcome, &options.credentials) {
            let shown = format!("{error:?}");
            prop_assert!(!shown.contains(&credentials.secret_access_key), "{}", shown);
        }
    }
}

proptest! {
    #![proptest_config(cases(2_000))]

    /// A valid request is signed and handed to the transport exactly once.
    #[test]
    fn a_valid_request_reaches_the_transport_once(
        name in proptest::option::of(valid_name()),
        region in region(),
        account in "[0-9]{12}",
    ) {
        let partition = partition::of_region(region).expect("a known region");
        let config = StartExecutionConfig {
            state_machine_arn: format!("arn:{}:states:{region}:{account}:stateMachine:m", partition.id),
            name,
            ..StartExecutionConfig::default()
        };
        let options = ClientOptions {
            credentials: Some(credentials()),
            ..ClientOptions::default()
        };
        let mut io = Scripted::new([Err(SendError::Permanent("not sent".into()))]);
        let _ = start(&config, &options, &|_: &str| None, &mut io);
        prop_assert_eq!(io.sent.len(), 1);
    }
}

/// Credentials as `credentials::check` lets them through: a key id of IAM's `[\w]+`, a
/// token of visible ASCII without spaces, and any secret at all.
fn signing_credentials() -> impl Strategy<Value = Credentials> {
    let token = proptest::option::of("[!-~]{1,300}");
    ("[A-Za-z0-9_]{1,40}", ".{1,60}", token).prop_map(
        |(access_key_id, secret_access_key, session_token)| Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        },
    )
}

proptest! {
    #![proptest_config(cases(1_000))]

    /// What the core signs verifies with the test kit's verifier, which shares no SigV4 code
    /// with it (written from the AWS spec), for any key, secret, token, region, input and time
    /// (1970 to 2226), in the scope of the ARN's region and the signing day.
    #[test]
    fn every_signed_request_verifies_independently(
        credentials in signing_credentials(),
        region in region(),
        text in any::<String>(),
        seconds in 0u64..8_000_000_000,
    ) {
        let partition = partition::of_region(region).expect("a known region");
        let config = StartExecutionConfig {
            state_machine_arn: format!("arn:{}:states:{region}:123456789012:stateMachine:m", partition.id),
            input: Some(serde_json::to_string(&text).expect("a string is JSON")),
            ..StartExecutionConfig::default()
        };
        let options = ClientOptions {
            credentials: Some(credentials.clone()),
            ..ClientOptions::default()
        };
        let now = std::time::UNIX_EPOCH + Duration::from_secs(seconds);
        let signed = crate::prepare(&config, &options, &|_: &str| None, now)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let mut key = Credential::new(&credentials.access_key_id, &credentials.secret_access_key);
        if let Some(token) = &credentials.session_token {
            key = key.with_session_token(token);
        }
        let body = signed.body.as_bytes();
        let scope = sigv4::verify("POST", "/", &signed.headers, body, &[key], now, None)
            .map_err(TestCaseError::fail)?;
        let day = sigv4::amz_date_of(now)[..8].to_string();
        prop_assert_eq!(
            (scope.region.as_str(), scope.service.as_str(), scope.date),
            (region, crate::sign::SERVICE, day)
        );
    }
}

/// Plain, valid credentials, for properties about what happens after signing.
fn credentials() -> Credentials {
    Credentials {
        access_key_id: "AKID".into(),
        secret_access_key: "secret".into(),
        session_token: None,
    }
}

/// A failure of one attempt: an answered error or a failed exchange.
fn attempt_failure() -> impl Strategy<Value = Result<Response, SendError>> {
    let code = prop_oneof![
        proptest::sample::select(&THROTTLING_CODES[..]).prop_map(str::to_string),
        proptest::sample::select(&TIMEOUT_CODES[..]).prop_map(str::to_string),
        Just("ValidationException".to_string()),
        Just("ExecutionAlreadyExists".to_string()),
        "[A-Za-z]{1,20}",
    ];
    let status = prop_oneof![
        proptest::sample::select(&TRANSIENT_STATUSES[..]),
        Just(400u16),
        Just(403),
        400u16..600,
    ];
    prop_oneof![
        (status, code).prop_map(|(status, code)| Scripted::error(status, &code)),
        "[a-z ]{0,20}".prop_map(|m| Err(SendError::Unsent(m))),
        "[a-z ]{0,20}".prop_map(|m| Err(SendError::Transient(m))),
        "[a-z ]{0,20}".prop_map(|m| Err(SendError::Permanent(m))),
        "[a-z ]{0,20}".prop_map(|m| Err(SendError::Unreadable(m))),
        Just(Scripted::json(200, "{")),
    ]
}

proptest! {
    #![proptest_config(cases(2_000))]

    /// Exactly the standard mode's list is retried: throttling and timeout codes and the
    /// transient statuses, nothing else.
    #[test]
    fn retry_classification_is_the_standard_modes(status in 100u16..600, code in edgy_text()) {
        let error = ServiceError { status, code: code.clone(), message: String::new(), request_id: None };
        let listed = THROTTLING_CODES.contains(&code.as_str())
            || TIMEOUT_CODES.contains(&code.as_str())
            || TRANSIENT_STATUSES.contains(&status);
        prop_assert_eq!(retry::is_retryable(&Error::Service(error)), listed);
    }

    /// Every wait is within its full-jitter ceiling (reached only to the nanosecond).
    #[test]
    fn backoff_stays_under_its_ceiling(attempts in 1u32..100, bits in any::<u64>()) {
        let ceiling = Duration::from_secs(1u64 << (attempts - 1).min(5)).min(Duration::from_secs(20));
        prop_assert!(retry::backoff(attempts, bits) <= ceiling);
    }

    /// Whatever the attempts meet, a call sends at most `max-attempts` StartExecutions, all
    /// with one name and one body, sleeps only between retryable failures, and a
    /// DescribeExecution follows only an `ExecutionAlreadyExists` to a retry.
    #[test]
    fn attempts_never_exceed_the_plan_and_all_carry_one_name(
        failures in proptest::collection::vec(attempt_failure(), 0..6),
        max_attempts in 1u32..6,
        named in any::<bool>(),
    ) {
        let config = StartExecutionConfig {
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
            name: named.then(|| "given".to_string()),
            ..StartExecutionConfig::default()
        };
        let options = ClientOptions {
            credentials: Some(credentials()),
            max_attempts: Some(max_attempts),
            ..ClientOptions::default()
        };
        let success = Scripted::json(200, r#"{"executionArn":"e","startDate":1}"#);
        let mut io = Scripted::new(failures.into_iter().chain([success]));
        let outcome = start(&config, &options, &|_: &str| None, &mut io);
        let starts: Vec<&str> = io.sent.iter()
            .filter(|r| r.headers.iter().any(|(k, v)| k == "x-amz-target" && v == wire::START_EXECUTION))
            .map(|r| r.body.as_str())
            .collect();
        prop_assert!(starts.len() as u32 <= max_attempts);
        prop_assert!(starts.windows(2).all(|w| w[0] == w[1]), "{:?}", starts);
        prop_assert!(starts[0].contains(r#""name":""#));
        let attempts = match &outcome {
            Ok(execution) => execution.attempts,
            Err(failure) => failure.attempts,
        };
        prop_assert_eq!(attempts as usize, starts.len());
        // A sleep only ever comes between two requests.
        prop_assert!(io.slept.len() < io.sent.len());
        if io.sent.len() > starts.len() {
            prop_assert!(starts.len() > 1);
        }
    }
}

/// One poll's answer: the execution running or ended, or any failure of an attempt.
fn poll_answer() -> impl Strategy<Value = Result<Response, SendError>> {
    let described = |status: &str| {
        Scripted::json(
            200,
            &format!(
                r#"{{"executionArn":"{EXECUTION}","status":"{status}","startDate":1800000000}}"#
            ),
        )
    };
    prop_oneof![
        4 => Just(described("RUNNING")),
        1 => proptest::sample::select(&["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"][..])
            .prop_map(described),
        1 => Just(Scripted::error(400, "ExecutionDoesNotExist")),
        3 => attempt_failure(),
    ]
}

const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:m:n";

proptest! {
    #![proptest_config(cases(2_000))]

    /// Whatever the polls meet, a wait ends: with an ended execution as soon as one is
    /// described, with `RUNNING` or an error once its time is up, or with an error that no
    /// retry cures; it never sleeps between polls past its end, and it counts every request
    /// it sent.
    #[test]
    fn a_wait_ends_on_time_with_what_it_last_saw(
        answers in proptest::collection::vec(poll_answer(), 0..40),
        max_wait_ms in 0u64..20_000,
        max_attempts in 1u32..4,
    ) {
        let options = ClientOptions {
            credentials: Some(credentials()),
            max_attempts: Some(max_attempts),
            ..ClientOptions::default()
        };
        let max_wait = Duration::from_millis(max_wait_ms);
        let running = Scripted::json(
            200,
            &format!(r#"{{"executionArn":"{EXECUTION}","status":"RUNNING","startDate":1800000000}}"#),
        );
        // Past the script, the execution runs for ever.
        let mut io = Scripted::new(answers.into_iter().chain(std::iter::repeat_n(running, 2_000)));
        let outcome = crate::wait(EXECUTION, &options, &|_: &str| None, &mut io, max_wait);
        let slept: Duration = io.slept.iter().sum();
        // Without a poll's own retries every sleep is between polls, within the wait.
        if max_attempts == 1 {
            prop_assert!(slept <= max_wait, "slept {:?} of {:?}", slept, max_wait);
        }
        let attempts = match &outcome {
            Ok(outcome) => outcome.attempts,
            Err(failure) => failure.attempts,
        };
        prop_assert_eq!(attempts as usize, io.sent.len());
        if let Ok(outcome) = &outcome && outcome.is_open() {
            // Only a wait that ran out of time returns an open execution.
            prop_assert!(io.clock >= max_wait);
        }
    }
}

/// Text of the characters escapes are made of, the secret's own, and any other.
fn escapy_text() -> impl Strategy<Value = String> {
    "([a&#;\\\\/u0-9xlt]|&amp;|\\\\u0061|&#97;|\\PC){0,24}"
}

proptest! {
    #![proptest_config(cases(5_000))]

    /// Wherever a secret stands in a text, and however it is written, it is gone after
    /// scrubbing. Its `*` is left out: the stand-in `***` would make a new one.
    #[test]
    fn no_secret_survives_scrubbing(
        before in escapy_text(),
        secret in "[^*]{1,12}",
        after in escapy_text(),
        escaped in any::<bool>(),
    ) {
        let written = if escaped {
            secret.chars().map(|c| format!("&#{};", u32::from(c))).collect()
        } else {
            secret.clone()
        };
        let credentials = Credentials {
            access_key_id: "A".into(),
            secret_access_key: secret.clone(),
            session_token: None,
        };
        let text = format!("{before}{written}{after}");
        let scrubbed = crate::scrub::scrub(&text, &credentials.secrets());
        prop_assert!(!scrubbed.contains(&secret), "{:?} in {:?}", secret, scrubbed);
        prop_assert!(scrubbed.contains(crate::scrub::REDACTED), "{:?}", scrubbed);
    }
}
