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
use crate::retry::{self, standard};
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

/// The regions the mutations use, each with its partition: written out here, not looked
/// up in the core's table.
const REGIONS: [(&str, &str); 8] = [
    ("us-east-1", "aws"),
    ("eu-west-1", "aws"),
    ("cn-north-1", "aws-cn"),
    ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"),
    ("us-isob-east-1", "aws-iso-b"),
    ("eu-isoe-west-1", "aws-iso-e"),
    ("us-isof-south-1", "aws-iso-f"),
];

/// The documented shape of a state machine ARN, checked without the core's code or any
/// regular expression: `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME[:QUALIFIER]`,
/// at most 256 characters, the region one of its partition's, a 12-digit account, a name of
/// 1 to 80 characters none of which Step Functions refuses, and a version (digits) or an
/// alias (up to 80 letters, digits, `_`, `-`, `.`).
fn documented_shape(arn: &str) -> bool {
    let length = arn.chars().count();
    if length == 0 || length > 256 {
        return false;
    }
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() != 7 && parts.len() != 8 {
        return false;
    }
    let in_partition = REGIONS.iter().any(|&(r, p)| r == parts[3] && p == parts[1]);
    let account = parts[4].len() == 12 && parts[4].chars().all(|c| c.is_ascii_digit());
    let name_length = parts[6].chars().count();
    let refused = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{10ffff}')
    };
    let name = (1..=80).contains(&name_length) && !parts[6].chars().any(refused);
    let qualifier = match parts.get(7) {
        None => true,
        Some(q) if !q.is_empty() && q.chars().all(|c| c.is_ascii_digit()) => true,
        Some(q) => {
            !q.is_empty()
                && q.chars().count() <= 80
                && q.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        }
    };
    parts[0] == "arn"
        && parts[2] == "states"
        && parts[5] == "stateMachine"
        && in_partition
        && account
        && name
        && qualifier
}

/// One edit of an ARN's `:`-separated parts.
#[derive(Debug, Clone)]
enum Mutation {
    /// Part `at` becomes another text: a valid one of some part, or not.
    Replace(prop::sample::Index, &'static str),
    Remove(prop::sample::Index),
    Repeat(prop::sample::Index),
    /// A character goes into the account, the name or the qualifier (not the region, whose
    /// validity the test's table could not tell).
    Insert(prop::sample::Index, prop::sample::Index, char),
    /// The name grows to around 80 characters.
    Pad(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let texts = vec![
        "arn",
        "ARN",
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-iso-f",
        "awz",
        "states",
        "State",
        "lambda",
        "us-east-1",
        "cn-north-1",
        "us-gov-west-1",
        "US-EAST-1",
        "us_east_1",
        "us-east-1.",
        "",
        "123456789012",
        "12345678901",
        "1234567890123",
        "12345678901a",
        "stateMachine",
        "statemachine",
        "execution",
        "m",
        "PROD",
        "7",
        "007",
        "a b",
        "x/y",
        "é😀",
        "-_.",
        "p.r-o_d",
    ];
    let chars = vec![
        'a', 'Z', '9', '-', '_', '.', 'é', '😀', ' ', '\u{a0}', '<', '?', '#', ':', '/', '\u{0}',
        '\u{85}', '\u{ffff}', '!', '@',
    ];
    prop_oneof![
        4 => (any::<prop::sample::Index>(), prop::sample::select(texts)).prop_map(|(at, t)| Mutation::Replace(at, t)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Remove),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Repeat),
        4 => (any::<prop::sample::Index>(), any::<prop::sample::Index>(), prop::sample::select(chars))
            .prop_map(|(part, at, c)| Mutation::Insert(part, at, c)),
        1 => (75usize..=85).prop_map(Mutation::Pad),
    ]
}

/// A valid ARN (of any partition, with or without a qualifier) and up to three edits of it.
fn mutated_arn() -> impl Strategy<Value = (String, Vec<Mutation>)> {
    let qualifier = prop_oneof![
        2 => Just(None),
        1 => (1u32..1_000_000).prop_map(|v| Some(v.to_string())),
        1 => "[A-Za-z0-9_.-]{1,80}".prop_map(Some),
    ];
    (
        prop::sample::select(&REGIONS[..]),
        "[0-9]{12}",
        valid_name(),
        qualifier,
        prop::collection::vec(mutation(), 0..=3),
    )
        .prop_map(
            |((region, partition), account, name, qualifier, mutations)| {
                let mut parts: Vec<String> = [
                    "arn",
                    partition,
                    "states",
                    region,
                    &account,
                    "stateMachine",
                    &name,
                ]
                .into_iter()
                .map(str::to_string)
                .chain(qualifier)
                .collect();
                for mutation in &mutations {
                    match mutation {
                        Mutation::Replace(at, text) => {
                            let at = at.index(parts.len());
                            parts[at] = text.to_string();
                        }
                        Mutation::Remove(at) if parts.len() > 1 => {
                            parts.remove(at.index(parts.len()));
                        }
                        Mutation::Remove(_) => {}
                        Mutation::Repeat(at) => {
                            let at = at.index(parts.len());
                            parts.insert(at, parts[at].clone());
                        }
                        Mutation::Insert(part, at, c) => {
                            let editable: Vec<usize> =
                                [4, 6, 7].into_iter().filter(|&i| i < parts.len()).collect();
                            if editable.is_empty() {
                                continue;
                            }
                            let part = editable[part.index(editable.len())];
                            let mut chars: Vec<char> = parts[part].chars().collect();
                            chars.insert(at.index(chars.len() + 1), *c);
                            parts[part] = chars.into_iter().collect();
                        }
                        Mutation::Pad(length) if parts.len() > 6 => {
                            let mut name: Vec<char> = parts[6].chars().collect();
                            name.resize(*length, 'n');
                            parts[6] = name.into_iter().collect();
                        }
                        Mutation::Pad(_) => {}
                    }
                }
                (parts.join(":"), mutations)
            },
        )
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
    fn mutated_arns_are_accepted_exactly_when_they_keep_the_documented_shape(
        (text, _) in mutated_arn(),
    ) {
        let parsed = arn::parse(&text);
        prop_assert_eq!(parsed.is_ok(), documented_shape(&text), "{:?}: {:?}", text, parsed);
        if let Ok(parsed) = parsed {
            let parts: Vec<&str> = text.split(':').collect();
            prop_assert_eq!(
                (parsed.partition.id, parsed.region, parsed.account, parsed.name),
                (parts[1], parts[3], parts[4], parts[6])
            );
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

/// A call as a user would make it: a valid ARN of any partition, JSON input, a valid name,
/// the ARN's region, a short trace header.
fn valid_config() -> impl Strategy<Value = StartExecutionConfig> {
    (
        region(),
        "[0-9]{12}",
        valid_name(),
        proptest::option::of(prop::sample::select(vec![
            "{}",
            "[1,2]",
            r#"{"a":"é\u00e9"}"#,
            "null",
        ])),
        proptest::option::of(valid_name()),
        any::<bool>(),
        proptest::option::of("[!-~]{0,40}"),
    )
        .prop_map(
            |(region, account, machine, input, name, with_region, trace_header)| {
                let partition = partition::of_region(region).expect("a known region").id;
                StartExecutionConfig {
                    state_machine_arn: format!(
                        "arn:{partition}:states:{region}:{account}:stateMachine:{machine}"
                    ),
                    input: input.map(str::to_string),
                    name,
                    region: with_region.then(|| region.to_string()),
                    trace_header,
                }
            },
        )
}

/// A secret, marked so that finding it anywhere can only mean a leak: mostly one the
/// credential checks let through, sometimes any text.
fn marked(mark: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        5 => "[A-Za-z0-9+/=]{1,30}".prop_map(move |s| format!("{mark}{s}")),
        1 => edgy_text().prop_map(move |s| format!("{mark}<{s}>")),
    ]
}

/// The credential variables, each maybe set, and sometimes the other variables the core
/// reads, with edgy values.
fn environment() -> impl Strategy<Value = Vec<(String, String)>> {
    let id = prop_oneof![5 => "[A-Z0-9]{4,20}", 1 => edgy_text()];
    (
        proptest::option::weighted(0.9, id),
        proptest::option::weighted(0.9, marked("ENVSECRET")),
        proptest::option::weighted(0.5, marked("ENVTOKEN")),
        proptest::option::weighted(0.2, prop_oneof![Just("2".to_string()), edgy_text()]),
        proptest::option::weighted(0.1, edgy_text()),
        proptest::option::weighted(0.1, edgy_text()),
    )
        .prop_map(|(id, secret, token, attempts, sfn_url, url)| {
            let names = [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_MAX_ATTEMPTS",
                "AWS_ENDPOINT_URL_SFN",
                "AWS_ENDPOINT_URL",
            ];
            let values = [id, secret, token, attempts, sfn_url, url];
            let set = names.into_iter().zip(values);
            set.filter_map(|(name, value)| Some((name.to_string(), value?)))
                .collect()
        })
}

/// Options a user would pass, credentials from the options or from the environment.
fn valid_options() -> impl Strategy<Value = ClientOptions> {
    let credentials = (
        "[A-Z0-9]{4,20}",
        marked("SECRET"),
        proptest::option::of(marked("TOKEN")),
    )
        .prop_map(
            |(access_key_id, secret_access_key, session_token)| Credentials {
                access_key_id,
                secret_access_key,
                session_token,
            },
        );
    (
        proptest::option::weighted(0.6, credentials),
        proptest::option::weighted(0.1, Just("http://127.0.0.1:9".to_string())),
        any::<bool>(),
        proptest::option::of(1u32..4),
    )
        .prop_map(
            |(credentials, endpoint_url, use_fips, max_attempts)| ClientOptions {
                credentials,
                endpoint_url,
                use_fips,
                max_attempts,
                ..ClientOptions::default()
            },
        )
}

/// What the server answers: any status and text, or, from a hostile server, the caller's
/// secrets echoed into an error, a success or a header.
#[derive(Debug, Clone)]
enum Server {
    Any {
        status: u16,
        body: String,
        error_type: String,
    },
    EchoError(u16),
    EchoSuccess,
    EchoEscaped(u16),
}

fn server() -> impl Strategy<Value = Server> {
    prop_oneof![
        2 => (prop_oneof![Just(200u16), Just(400), Just(403), Just(500), 0u16..1000], edgy_text(), edgy_text())
            .prop_map(|(status, body, error_type)| Server::Any { status, body, error_type }),
        1 => prop_oneof![Just(400u16), Just(403), Just(429), Just(500)].prop_map(Server::EchoError),
        1 => Just(Server::EchoSuccess),
        1 => prop_oneof![Just(400u16), Just(503)].prop_map(Server::EchoEscaped),
    ]
}

impl Server {
    fn answer(&self, secrets: &[String]) -> Response {
        let echoed = secrets.join(" and ");
        let json_escaped: String = serde_json::to_string(&echoed)
            .expect("strings serialise")
            .replace('/', "\\/");
        let (status, body, error_type) = match self {
            Server::Any {
                status,
                body,
                error_type,
            } => (*status, body.clone(), error_type.clone()),
            Server::EchoError(status) => (
                *status,
                format!(r#"{{"__type":"Denied","message":{json_escaped}}}"#),
                format!("Denied:{echoed}"),
            ),
            Server::EchoSuccess => (
                200,
                format!(r#"{{"executionArn":{json_escaped},"startDate":1}}"#),
                String::new(),
            ),
            Server::EchoEscaped(status) => {
                let entities: String = echoed
                    .chars()
                    .map(|c| format!("&#{};", u32::from(c)))
                    .collect();
                (
                    *status,
                    format!("<Code>{entities}</Code><Message>{echoed}</Message>"),
                    echoed.clone(),
                )
            }
        };
        Response {
            status,
            headers: vec![
                ("x-amzn-errortype".into(), error_type),
                ("x-amzn-RequestId".into(), echoed),
            ],
            body: body.into_bytes(),
        }
    }
}

/// Hostile input, and mostly valid calls, through the whole core, from validation to the
/// parsed answer, against servers that echo the caller's secrets: every call returns, none
/// panics, a secret never comes back in an error or a value, and at least 30% of the cases
/// reach the transport (so that the answers' paths are walked, not only validation's).
#[test]
fn no_input_makes_the_core_panic() {
    use std::sync::atomic::{AtomicU32, Ordering};
    let strategy = (
        prop_oneof![5 => valid_config(), 1 => hostile_config()],
        prop_oneof![5 => valid_options(), 1 => hostile_options()],
        environment(),
        server(),
    );
    let (cases_run, reached) = (AtomicU32::new(0), AtomicU32::new(0));
    let mut runner = proptest::test_runner::TestRunner::new(cases(5_000));
    runner
        .run(&strategy, |(config, options, vars, server)| {
            let env = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            // Every secret in play: the options', else the environment's.
            let mut secrets: Vec<String> = match &options.credentials {
                Some(given) => [Some(&given.secret_access_key), given.session_token.as_ref()]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect(),
                None => ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
                    .into_iter()
                    .filter_map(env)
                    .collect(),
            };
            // Unmarked text is everywhere (a hostile token may be `us-east-1`); marked is not.
            secrets.retain(|s| s.contains("SECRET") || s.contains("TOKEN"));
            let answer = server.answer(&secrets);
            let mut io = Scripted::new(std::iter::repeat_n(Ok(answer), 4));
            let outcome = start(&config, &options, &env, &mut io);
            cases_run.fetch_add(1, Ordering::Relaxed);
            if !io.sent.is_empty() {
                reached.fetch_add(1, Ordering::Relaxed);
            }
            let shown = match &outcome {
                Ok(execution) => format!("{execution:?}"),
                Err(failure) => format!("{failure:?}"),
            };
            for secret in &secrets {
                prop_assert!(!shown.contains(secret.as_str()), "{} in {}", secret, shown);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (run, reached) = (cases_run.into_inner(), reached.into_inner());
    eprintln!("{reached} of {run} cases reached the transport");
    assert!(
        reached * 10 >= run * 3,
        "only {reached} of {run} cases reached the transport"
    );
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

/// An error code: one the standard mode lists (written out in `retry::standard`, not the
/// core's constants), one a letter away from it, or any text.
fn error_code() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => proptest::sample::select(&standard::THROTTLING[..]).prop_map(str::to_string),
        1 => proptest::sample::select(&standard::TIMEOUT[..]).prop_map(str::to_string),
        1 => proptest::sample::select(&standard::NEAR_MISSES[..]).prop_map(str::to_string),
        2 => edgy_text(),
    ]
}

/// A failure of one attempt that a retry cannot turn into a DescribeExecution.
fn plain_failure() -> impl Strategy<Value = Result<Response, SendError>> {
    let status = prop_oneof![
        proptest::sample::select(&standard::STATUSES[..]),
        Just(400u16),
        400u16..600,
    ];
    // Codes as the wire gives them: no escapes, nothing the parser trims or cuts at.
    let plain = |c: &String| {
        c.trim() == c && !c.contains(['"', '\\', ':', '#']) && !c.chars().any(char::is_control)
    };
    let code = prop_oneof![
        error_code().prop_filter("a plain code", plain),
        "[A-Za-z]{1,20}"
    ];
    prop_oneof![
        3 => (status, code).prop_map(|(status, code)| Scripted::error(status, &code)),
        1 => "[a-z ]{0,20}".prop_map(|m| Err(SendError::Unsent(m))),
        1 => "[a-z ]{0,20}".prop_map(|m| Err(SendError::Transient(m))),
        1 => "[a-z ]{0,20}".prop_map(|m| Err(SendError::Permanent(m))),
        1 => "[a-z ]{0,20}".prop_map(|m| Err(SendError::Unreadable(m))),
        1 => Just(Scripted::json(200, "{")),
    ]
}

/// The test's own reading of the standard mode: whether StartExecution tries again after
/// this answer. A connection that failed before or after sending may be retried (the name
/// keeps it safe); an answer that cannot be read, a refusal by policy and a final error
/// may not.
fn retried_after(answer: &Result<Response, SendError>) -> bool {
    match answer {
        Ok(response) if response.status == 200 => false,
        Ok(response) => {
            let body: serde_json::Value =
                serde_json::from_slice(&response.body).unwrap_or_default();
            let code = body["__type"].as_str().unwrap_or_default();
            standard::retries(response.status, code)
        }
        Err(SendError::Unsent(_) | SendError::Transient(_)) => true,
        Err(_) => false,
    }
}

/// A failure of one attempt: an answered error or a failed exchange.
fn attempt_failure() -> impl Strategy<Value = Result<Response, SendError>> {
    let code = prop_oneof![
        error_code(),
        Just("ValidationException".to_string()),
        Just("ExecutionAlreadyExists".to_string()),
        "[A-Za-z]{1,20}",
    ];
    let status = prop_oneof![
        proptest::sample::select(&standard::STATUSES[..]),
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
    /// transient statuses, nothing else, by the list written out in `retry::standard`;
    /// listed codes, their near misses and any text are drawn alike.
    #[test]
    fn retry_classification_is_the_standard_modes(
        status in prop_oneof![proptest::sample::select(&standard::STATUSES[..]), 100u16..600],
        code in error_code(),
    ) {
        let error = ServiceError { status, code: code.clone(), message: String::new(), request_id: None };
        prop_assert_eq!(retry::is_retryable(&Error::Service(error)), standard::retries(status, &code));
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

proptest! {
    #![proptest_config(cases(2_000))]

    /// The number of attempts follows from the scripted answers alone, read by the test's
    /// own classifier: every retryable failure is followed by another attempt until one is
    /// final or `max-attempts` are spent, and the call succeeds exactly when it reached the
    /// success at the end of the script.
    #[test]
    fn the_attempts_are_what_the_faults_call_for(
        failures in proptest::collection::vec(plain_failure(), 0..6),
        max_attempts in 1u32..6,
    ) {
        let options = ClientOptions {
            credentials: Some(credentials()),
            max_attempts: Some(max_attempts),
            ..ClientOptions::default()
        };
        let success = Scripted::json(200, r#"{"executionArn":"e","startDate":1}"#);
        let script: Vec<_> = failures.into_iter().chain([success]).collect();
        let mut expected = 1;
        while expected < max_attempts as usize && retried_after(&script[expected - 1]) {
            expected += 1;
        }
        let reaches_success = expected == script.len();
        let config = StartExecutionConfig {
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
            ..StartExecutionConfig::default()
        };
        let mut io = Scripted::new(script.clone());
        let outcome = start(&config, &options, &|_: &str| None, &mut io);
        let attempts = match &outcome {
            Ok(execution) => execution.attempts,
            Err(failure) => failure.attempts,
        };
        prop_assert_eq!(attempts as usize, expected, "{:?}", script);
        prop_assert_eq!(io.sent.len(), expected);
        prop_assert_eq!(outcome.is_ok(), reaches_success, "{:?}", outcome);
        prop_assert_eq!(io.slept.len(), expected - 1);
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
