//! botocore as a signing oracle: generated requests, each signed by the component's
//! `prepare` or `prepare-sync` (StartSyncExecution, on the `sync-` host) and by botocore's
//! `SigV4Auth` over the same method, URL, headers and body, must agree byte for byte (and
//! DescribeExecution's, as `describe` sends them); botocore's endpoint resolver must pick the same URL, and botocore's
//! serializer must write the same JSON body (as a JSON value: it spaces and escapes
//! differently, `json.dumps` defaults, so its bytes cannot match).
//!
//! Cases come from proptest strategies. `SFN_ORACLE_CASES` and `SFN_ORACLE_SEED` change how
//! many run and which (`SFN_ORACLE_CASES=0` fails, rather than pass having compared nothing,
//! even when the peers are not set up); a failure names its case, and the seed replays the
//! run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::runtime;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use sfn_host::{ClientOptions, HostConfig, SignedRequest, StartExecutionConfig};
use sfn_test_kit::peers::oracle;

const DEFAULT_CASES: usize = 2_000;

/// Real regions of every partition the component knows.
const REGIONS: &[(&str, &[&str])] = &[
    (
        "aws",
        &[
            "us-east-1",
            "us-west-2",
            "eu-central-2",
            "ap-southeast-5",
            "ca-west-1",
            "mx-central-1",
            "il-central-1",
            "me-south-1",
            "af-south-1",
            "sa-east-1",
        ],
    ),
    ("aws-cn", &["cn-north-1", "cn-northwest-1"]),
    ("aws-us-gov", &["us-gov-west-1", "us-gov-east-1"]),
    ("aws-iso", &["us-iso-east-1", "us-iso-west-1"]),
    ("aws-iso-b", &["us-isob-east-1"]),
    ("aws-iso-e", &["eu-isoe-west-1"]),
    ("aws-iso-f", &["us-isof-south-1", "us-isof-east-1"]),
    ("aws-eusc", &["eusc-de-east-1"]),
];

/// Characters a name may hold: ASCII, accented Latin, Greek, CJK, emoji (outside the
/// Basic Multilingual Plane), a combining mark, and punctuation the rules allow.
fn name_pool() -> Vec<char> {
    let mut pool: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
    pool.extend("-_.!@()+='".chars());
    pool.extend("éüßøñÇ".chars());
    pool.extend("αβγΩ日本語名前".chars());
    pool.extend(['🚀', '🦀', '𝄞', '\u{301}']);
    pool
}

/// Characters for JSON strings: everything that needs escaping, and then some.
fn text_pool() -> Vec<char> {
    let mut pool = name_pool();
    pool.extend(['"', '\\', '/', ' ', '\n', '\t', '\u{0}', '\u{1f}', '\u{7f}']);
    pool.extend(['\u{2028}', '\u{2029}', '\u{feff}', '\u{fffd}', '\u{10fffd}']);
    pool.extend("{}[]:,<>&%$".chars());
    pool
}

/// `min` to `max` characters drawn from `pool`.
fn chars(pool: Vec<char>, min: usize, max: usize) -> impl Strategy<Value = String> + Clone {
    prop::collection::vec(prop::sample::select(pool), min..=max).prop_map(String::from_iter)
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialise")
}

/// A JSON text as a user might write it: random shape, spacing and escapes.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        chars(text_pool(), 0, 12).prop_map(|s| json_string(&s)),
        prop::sample::select(vec!["0", "-1.5e3", "12345678901234567890", "1E-7"])
            .prop_map(String::from),
        prop::sample::select(vec!["true", "false", "null"]).prop_map(String::from),
        // Escapes kept as written: the input is sent as text, not re-encoded.
        Just(r#""\u00e9\ud83d\ude80\/\b""#.to_string()),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        let key = chars(text_pool(), 0, 8);
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), any::<bool>()).prop_map(
                |(items, tight)| format!("[{}]", items.join(if tight { "," } else { ", " }))
            ),
            prop::collection::vec((key, inner), 0..4).prop_map(|members| {
                let members: Vec<String> = members
                    .iter()
                    .map(|(key, value)| format!("{}: {value}", json_string(key)))
                    .collect();
                format!("{{ {} }}", members.join(",\n  "))
            }),
        ]
    })
}

#[derive(Debug)]
struct Case {
    region: &'static str,
    fips: bool,
    dual_stack: bool,
    key_id: String,
    secret: String,
    token: Option<String>,
    epoch_seconds: u64,
    config: StartExecutionConfig,
}

/// A region and its partition, from the table above.
fn place() -> impl Strategy<Value = (&'static str, &'static str)> {
    let pairs: Vec<(&'static str, &'static str)> = REGIONS
        .iter()
        .flat_map(|(partition, regions)| regions.iter().map(move |region| (*partition, *region)))
        .collect();
    prop::sample::select(pairs)
}

/// `:version`, `:alias` or nothing.
fn qualifier() -> impl Strategy<Value = String> {
    let alias: Vec<char> = ('A'..='Z')
        .chain('0'..='9')
        .chain("abc_-.".chars())
        .collect();
    prop_oneof![
        1 => (1u32..1000).prop_map(|v| format!(":{v}")),
        1 => chars(alias, 1, 80).prop_map(|a| format!(":{a}")),
        2 => Just(String::new()),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let upper: Vec<char> = ('A'..='Z').chain('0'..='9').collect();
    let base64: Vec<char> = ('A'..='Z')
        .chain('a'..='z')
        .chain('0'..='9')
        .chain("+/=".chars())
        .collect();
    // `\p{ASCII}*`, but a line break would end the header in an HTTP message.
    let ascii: Vec<char> = (0u8..=127)
        .map(char::from)
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect();
    let machine = (place(), "[0-9]{12}", chars(name_pool(), 1, 80), qualifier());
    let identity = (
        chars(upper, 16, 16),
        chars(base64.clone(), 40, 40),
        proptest::option::of(chars(base64, 16, 600)),
        // 2000-01-01 to 2099-12-31.
        946_684_800u64..946_684_800 + 3_155_760_000,
    );
    let arguments = (
        proptest::option::weighted(0.8, json_text()),
        proptest::option::weighted(0.7, chars(name_pool(), 1, 80)),
        proptest::bool::weighted(0.2),
        proptest::option::weighted(0.3, chars(ascii, 0, 256)),
    );
    (machine, identity, arguments, any::<bool>(), any::<bool>()).prop_map(
        |(machine, identity, arguments, fips, dual_stack)| {
            let ((partition, region), account, name, qualifier) = machine;
            let (key_id, secret, token, epoch_seconds) = identity;
            let (input, execution_name, with_region, trace_header) = arguments;
            Case {
                region,
                fips,
                dual_stack,
                key_id: format!("AKIA{key_id}"),
                secret,
                token,
                epoch_seconds,
                config: StartExecutionConfig {
                    state_machine_arn: format!(
                        "arn:{partition}:states:{region}:{account}:stateMachine:{name}{qualifier}"
                    ),
                    input,
                    name: execution_name,
                    region: with_region.then(|| region.to_string()),
                    trace_header,
                },
            }
        },
    )
}

/// The component's signed request for a case.
/// The operations `prepare` and `prepare-sync` sign, by botocore's name.
const START: &str = "StartExecution";
const START_SYNC: &str = "StartSyncExecution";

async fn prepare(case: &Case, operation: &str) -> SignedRequest {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), case.key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), case.secret.clone()),
    ];
    if let Some(token) = &case.token {
        env.push(("AWS_SESSION_TOKEN".to_string(), token.clone()));
    }
    let host = {
        let mut c = HostConfig::default();
        c.env = env;
        c.wall_clock = Some(UNIX_EPOCH + Duration::from_secs(case.epoch_seconds));
        c
    };
    let options = ClientOptions {
        use_fips: case.fips,
        use_dual_stack: case.dual_stack,
        ..ClientOptions::default()
    };
    let runtime = runtime(host);
    let prepared = if operation == START_SYNC {
        runtime.prepare_sync(&case.config, &options).await
    } else {
        runtime.prepare(&case.config, &options).await
    };
    prepared
        .expect("the component runs")
        .unwrap_or_else(|e| panic!("{:?}: {e:?}", case.config))
}

/// The question for botocore: the StartExecution parameters and our request.
fn question(case: &Case, operation: &str, request: &SignedRequest) -> Value {
    // The action's input defaults to `{}`, as Terraform's does; the component sends it.
    let input = case.config.input.as_deref().unwrap_or("{}");
    let mut params = json!({ "stateMachineArn": case.config.state_machine_arn, "input": input });
    let optional = [
        ("name", &case.config.name),
        ("traceHeader", &case.config.trace_header),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            params[key] = value.as_str().into();
        }
    }
    json!({
        "region": case.region,
        "fips": case.fips,
        "dualStack": case.dual_stack,
        "accessKeyId": case.key_id,
        "secretAccessKey": case.secret,
        "sessionToken": case.token,
        "epochSeconds": case.epoch_seconds,
        "operation": operation,
        "params": params,
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": request.headers,
            "body": request.body,
        },
    })
}

fn header<'a>(request: &'a SignedRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Header names (in lower case) and values, sorted: ours as sent, or botocore's own.
fn header_set(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut set: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect();
    set.sort();
    set
}

/// The headers of the request botocore builds with its own serialiser and signs.
fn botocore_headers(answer: &Value) -> Vec<(String, String)> {
    let pairs = answer["headers"].as_array().expect("botocore's headers");
    let pairs = pairs.iter().map(|pair| {
        let text = |i: usize| pair[i].as_str().expect("a string").to_string();
        (text(0), text(1))
    });
    header_set(&pairs.collect::<Vec<_>>())
}

fn compare(case: &Case, request: &SignedRequest, answer: &Value) {
    let what = format!(
        "{} fips={} dual-stack={} at {}",
        case.config.state_machine_arn, case.fips, case.dual_stack, case.epoch_seconds
    );
    assert_eq!(answer.get("urlError"), None, "botocore refuses {what}");
    assert_eq!(answer["url"], request.url.as_str(), "URL for {what}");
    let ours: Value = serde_json::from_str(&request.body).unwrap();
    let theirs: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(ours, theirs, "body for {what}");
    assert_eq!(
        header_set(&request.headers),
        botocore_headers(answer),
        "headers for {what}\nbody: {}",
        request.body
    );
    let signed = &answer["signed"];
    for (botocore, component) in [
        ("X-Amz-Date", "x-amz-date"),
        ("X-Amz-Security-Token", "x-amz-security-token"),
        ("Authorization", "authorization"),
    ] {
        assert_eq!(
            signed.get(botocore).and_then(Value::as_str),
            header(request, component),
            "{botocore} for {what}\nbody: {}",
            request.body
        );
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect("a number"))
}

#[tokio::test]
async fn botocore_signs_generated_requests_identically() {
    let cases = sfn_test_kit::case_count("SFN_ORACLE_CASES", DEFAULT_CASES as u64);
    let seed = setting("SFN_ORACLE_SEED", 0x5eed_f00d);
    let Some(botocore) = oracle() else { return };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let cases_from = case();
    let started = SystemTime::now();
    let (mut tokens, mut fips, mut dual, mut non_ascii) = (0, 0, 0, 0);
    let (mut done, mut syncs) = (0, 0);
    for _ in 0..cases {
        let case = cases_from
            .new_tree(&mut runner)
            .expect("the strategy always generates")
            .current();
        // Every other case is StartSyncExecution: the same input on the sync- host.
        let operation = if syncs * 2 < done { START_SYNC } else { START };
        let request = prepare(&case, operation).await;
        let answer = botocore.ask(&question(&case, operation, &request));
        compare(&case, &request, &answer);
        done += 1;
        syncs += usize::from(operation == START_SYNC);
        tokens += usize::from(case.token.is_some());
        fips += usize::from(case.fips);
        dual += usize::from(case.dual_stack);
        non_ascii += usize::from(!request.body.is_ascii());
    }
    eprintln!(
        "botocore agreed on all {cases} cases (seed {seed:#x}; {syncs} StartSyncExecution, \
         {tokens} with a session token, {fips} FIPS, {dual} dual-stack, {non_ascii} with \
         non-ASCII bodies) in {:.1} s",
        started.elapsed().unwrap().as_secs_f64()
    );
}

/// DescribeExecution has no `prepare`: the requests `describe` sends to the stand-in (at a
/// fixed signing time) are what botocore signs again. Its URL is StartExecution's, resolved
/// by the same code, which the test above checks against botocore's rule set.
#[tokio::test]
async fn botocore_signs_describe_execution_identically() {
    // A twentieth, and at least one.
    let cases = sfn_test_kit::case_count("SFN_ORACLE_CASES", DEFAULT_CASES as u64).div_ceil(20);
    let Some(botocore) = oracle() else { return };
    let any_time = sfn_test_kit::standin::Options { max_skew: None };
    let credentials = vec![sfn_test_kit::sigv4::Credential::new(
        sfn_test_kit::AKID,
        sfn_test_kit::SECRET,
    )];
    let server = sfn_test_kit::standin::StandIn::start_with(any_time, credentials, |_| {
        let body = r#"{"executionArn":"arn:x","stateMachineArn":"arn:y","status":"RUNNING","startDate":1}"#;
        sfn_test_kit::standin::Reply::json(200, body, "req")
    });
    let url = server.url();
    let mut runner = TestRunner::deterministic();
    let execution = (
        place(),
        "[0-9]{12}",
        chars(name_pool(), 1, 80),
        chars(name_pool(), 1, 80),
    );
    let at = 946_684_800u64..946_684_800 + 3_155_760_000;
    for _ in 0..cases.max(1) {
        let (((partition, region), account, machine, name), epoch_seconds) =
            (&execution, at.clone())
                .new_tree(&mut runner)
                .expect("the strategy always generates")
                .current();
        let arn = format!("arn:{partition}:states:{region}:{account}:execution:{machine}:{name}");
        let host = {
            // Long-term credentials, as botocore is given below.
            let mut c = crate::host_without_token(&url);
            c.wall_clock = Some(UNIX_EPOCH + Duration::from_secs(epoch_seconds));
            c
        };
        let options = crate::once(crate::options(Some(&url)));
        let described = runtime(host).describe(&arn, &options).await.unwrap();
        described.unwrap_or_else(|f| panic!("{arn}: {f:?}"));
        let received = server.requests().pop().expect("one request");
        assert_eq!(received.check, Ok(()), "the stand-in's own SigV4 check");
        let request = SignedRequest {
            method: received.method.clone(),
            url: format!("{url}/"),
            headers: received.headers.clone(),
            body: String::from_utf8(received.body.clone()).unwrap(),
        };
        let answer = botocore.ask(&json!({
            "region": region,
            "fips": false,
            "dualStack": false,
            "accessKeyId": sfn_test_kit::AKID,
            "secretAccessKey": sfn_test_kit::SECRET,
            "epochSeconds": epoch_seconds,
            "operation": "DescribeExecution",
            "endpointUrl": url,
            "params": {"executionArn": arn},
            "request": {
                "method": request.method,
                "url": request.url,
                "headers": request.headers,
                "body": request.body,
            },
        }));
        let ours: Value = serde_json::from_str(&request.body).unwrap();
        let theirs: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(ours, theirs, "body for {arn}");
        assert_eq!(
            header_set(&request.headers),
            botocore_headers(&answer),
            "headers for {arn}"
        );
        for (botocore, ours) in [
            ("X-Amz-Date", "x-amz-date"),
            ("Authorization", "authorization"),
        ] {
            assert_eq!(
                answer["signed"].get(botocore).and_then(Value::as_str),
                header(&request, ours),
                "{botocore} for {arn}"
            );
        }
    }
    eprintln!(
        "botocore agreed on {} DescribeExecution requests",
        cases.max(1)
    );
}
