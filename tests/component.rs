//! The real component through the host library, without any network: its interface,
//! validation at every boundary, and signing checked against an independent verifier.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sfn_host::{ClientOptions, Credentials, Error, FieldError, HostConfig, SignedRequest};
use support::sigv4::{self, Credential};
use support::{AKID, ARN, SECRET, TOKEN, config, options, runtime};

/// 2015-08-30T12:36:00Z, the time of the spec's test vector.
fn vector_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

fn signing_host(token: Option<&str>) -> HostConfig {
    HostConfig {
        wall_clock: Some(vector_time()),
        ..support::host("http://127.0.0.1:9", token)
    }
}

fn field(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

#[test]
fn exports_the_sfn_action_interfaces_and_imports_only_wasi() {
    let engine = wasmtime::Engine::default();
    let component = wasmtime::component::Component::new(&engine, sfn_host::COMPONENT).unwrap();
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(&engine).map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        exports,
        ["sfn:action/types@0.1.0", "sfn:action/start-execution@0.1.0"]
    );
    let imports: Vec<String> = ty.imports(&engine).map(|(n, _)| n.to_string()).collect();
    for needed in [
        "wasi:http/outgoing-handler@0.2.12",
        "wasi:cli/environment@0.2.12",
        "wasi:clocks/wall-clock@0.2.12",
    ] {
        assert!(
            imports.iter().any(|i| i == needed),
            "{needed} in {imports:?}"
        );
    }
    assert!(
        imports.iter().all(|i| i.starts_with("wasi:")),
        "only WASI imports: {imports:?}"
    );
    assert!(
        !imports
            .iter()
            .any(|i| i.starts_with("wasi:filesystem") || i.starts_with("wasi:sockets")),
        "no filesystem or socket access: {imports:?}"
    );
}

#[test]
fn the_command_component_exports_only_wasi_cli_run() {
    // Built from the same guest without the `plugin` feature: if cargo ever unified the
    // features of the two builds, the command would export sfn:action too.
    let engine = wasmtime::Engine::default();
    let component =
        wasmtime::component::Component::from_file(&engine, env!("SFN_COMMAND_WASM")).unwrap();
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(&engine).map(|(n, _)| n.to_string()).collect();
    // Rust's std exports run at the version its WASI adapter names.
    assert_eq!(exports, ["wasi:cli/run@0.2.0"]);
    let imports: Vec<String> = ty.imports(&engine).map(|(n, _)| n.to_string()).collect();
    for needed in [
        "wasi:http/outgoing-handler@",
        "wasi:cli/exit@",
        "wasi:filesystem/preopens@",
    ] {
        assert!(
            imports.iter().any(|i| i.starts_with(needed)),
            "{needed} in {imports:?}"
        );
    }
    assert!(
        imports.iter().all(|i| i.starts_with("wasi:")),
        "{imports:?}"
    );
}

#[tokio::test]
async fn prepare_reproduces_the_botocore_vector_byte_for_byte() {
    let runtime = runtime(signing_host(None));
    let request = runtime
        .prepare(&config(ARN), &options(None))
        .await
        .unwrap()
        .unwrap();
    let expected = SignedRequest {
        method: "POST".into(),
        url: "https://states.us-east-1.amazonaws.com/".into(),
        headers: [
            ("content-type", "application/x-amz-json-1.0"),
            ("host", "states.us-east-1.amazonaws.com"),
            ("x-amz-target", "AWSStepFunctions.StartExecution"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/states/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=fff5eb1a3f853c5547d172672124b66196a5ee67921ea6e7199dd41728bc02ea"),
            ("content-length", "96"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec(),
        body: r#"{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld","input":"{}"}"#.into(),
    };
    assert_eq!(request, expected);
}

/// Checks a prepared request with the stand-in's own SigV4 code at the signing time.
fn verify(request: &SignedRequest, credential: Credential) -> sigv4::Scope {
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(k, _)| k != "content-length")
        .cloned()
        .collect();
    sigv4::verify(
        "POST",
        "/",
        &headers,
        request.body.as_bytes(),
        &[credential],
        vector_time(),
        Some(Duration::from_secs(1)),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn every_partition_fips_and_dual_stack_signs_for_the_arns_region() {
    let runtime = runtime(signing_host(Some(TOKEN)));
    let credential = Credential::new(AKID, SECRET).with_session_token(TOKEN);
    let cases = [
        (
            "aws",
            "eu-west-1",
            "https://states.eu-west-1.amazonaws.com/",
            "https://states-fips.eu-west-1.api.aws/",
        ),
        (
            "aws-cn",
            "cn-northwest-1",
            "https://states.cn-northwest-1.amazonaws.com.cn/",
            "https://states-fips.cn-northwest-1.api.amazonwebservices.com.cn/",
        ),
        (
            "aws-us-gov",
            "us-gov-west-1",
            "https://states.us-gov-west-1.amazonaws.com/",
            "https://states-fips.us-gov-west-1.api.aws/",
        ),
        (
            "aws-iso",
            "us-iso-west-1",
            "https://states.us-iso-west-1.c2s.ic.gov/",
            "https://states-fips.us-iso-west-1.api.aws.ic.gov/",
        ),
        (
            "aws-iso-b",
            "us-isob-east-1",
            "https://states.us-isob-east-1.sc2s.sgov.gov/",
            "https://states-fips.us-isob-east-1.api.aws.scloud/",
        ),
        (
            "aws-iso-e",
            "eu-isoe-west-1",
            "https://states.eu-isoe-west-1.cloud.adc-e.uk/",
            "https://states-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk/",
        ),
        (
            "aws-iso-f",
            "us-isof-east-1",
            "https://states.us-isof-east-1.csp.hci.ic.gov/",
            "https://states-fips.us-isof-east-1.api.aws.hci.ic.gov/",
        ),
        (
            "aws-eusc",
            "eusc-de-east-1",
            "https://states.eusc-de-east-1.amazonaws.eu/",
            "https://states-fips.eusc-de-east-1.api.amazonwebservices.eu/",
        ),
    ];
    for (partition, region, plain_url, fips_dual_url) in cases {
        let arn = format!("arn:{partition}:states:{region}:123456789012:stateMachine:m");
        for (fips, dual, url) in [(false, false, plain_url), (true, true, fips_dual_url)] {
            let opts = ClientOptions {
                use_fips: fips,
                use_dual_stack: dual,
                ..options(None)
            };
            let request = runtime
                .prepare(&config(&arn), &opts)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(request.url, url);
            let scope = verify(&request, credential.clone());
            assert_eq!(
                (scope.region.as_str(), scope.service.as_str()),
                (region, "states")
            );
            let token = request
                .headers
                .iter()
                .find(|(k, _)| k == "x-amz-security-token");
            assert_eq!(token.map(|(_, v)| v.as_str()), Some(TOKEN));
        }
    }
}

#[tokio::test]
async fn explicit_credentials_win_over_the_environment() {
    let runtime = runtime(signing_host(Some(TOKEN)));
    let opts = ClientOptions {
        credentials: Some(Credentials {
            access_key_id: "AKIDOTHER".into(),
            secret_access_key: "other-secret".into(),
            session_token: None,
        }),
        ..options(None)
    };
    let request = runtime.prepare(&config(ARN), &opts).await.unwrap().unwrap();
    verify(&request, Credential::new("AKIDOTHER", "other-secret"));
    assert!(
        !request
            .headers
            .iter()
            .any(|(k, _)| k == "x-amz-security-token")
    );
}

#[tokio::test]
async fn missing_credentials_name_the_variables() {
    let runtime = runtime(HostConfig::default());
    let error = runtime
        .prepare(&config(ARN), &options(None))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        error,
        Error::MissingCredentials("pass credentials in the client options or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)".into())
    );
}

#[tokio::test]
async fn custom_endpoint_errors_join_the_argument_errors() {
    let runtime = runtime(signing_host(None));
    let opts = ClientOptions {
        endpoint_url: Some("ftp://example".into()),
        use_fips: true,
        ..options(None)
    };
    let mut bad = config("arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld:");
    bad.input = Some("{".into());
    let error = runtime.prepare(&bad, &opts).await.unwrap().unwrap_err();
    assert_eq!(
        error,
        Error::InvalidConfig(vec![
            field(
                "state_machine_arn",
                "version or alias after the state machine name must not be empty"
            ),
            field(
                "input",
                "must be valid JSON: EOF while parsing an object at line 1 column 1"
            ),
            field(
                "use_fips",
                "FIPS and custom endpoint are not supported together: drop use_fips or the custom endpoint"
            ),
            field(
                "endpoint_url",
                "the custom endpoint 'ftp://example' must start with https:// or http://"
            ),
        ])
    );
}

/// Runs `validate` on the component and returns the field errors (empty when valid).
async fn field_errors(config: sfn_host::StartExecutionConfig) -> Vec<FieldError> {
    let runtime = runtime(HostConfig::default());
    runtime
        .validate(&config)
        .await
        .unwrap()
        .err()
        .unwrap_or_default()
}

fn with(edit: impl FnOnce(&mut sfn_host::StartExecutionConfig)) -> sfn_host::StartExecutionConfig {
    let mut c = config(ARN);
    edit(&mut c);
    c
}

#[tokio::test]
async fn name_boundaries_in_scalar_values() {
    assert_eq!(
        field_errors(with(|c| c.name = Some("ж".repeat(80)))).await,
        []
    );
    assert_eq!(
        field_errors(with(|c| c.name = Some("𝄞".repeat(80)))).await,
        []
    );
    assert_eq!(
        field_errors(with(|c| c.name = Some("𝄞".repeat(81)))).await,
        [field(
            "name",
            "must be at most 80 characters (Unicode scalar values), got 81"
        )]
    );
    assert_eq!(
        field_errors(with(|c| c.name = Some(String::new()))).await,
        [field("name", "must not be empty")]
    );
    let classes = [
        ("run 1", "white space: found U+0020 at byte 3"),
        ("run\u{3000}1", "white space: found U+3000 at byte 3"),
        (
            "run{1",
            "brackets < > { } [ ]: found '{' (U+007B) at byte 3",
        ),
        ("run*", "wildcards ? *: found '*' (U+002A) at byte 3"),
        (
            "run#1",
            "special characters \" # % \\ ^ | ~ ` $ & , ; : /: found '#' (U+0023) at byte 3",
        ),
        ("run\u{85}", "white space: found U+0085 at byte 3"),
        ("run\u{90}", "control characters: found U+0090 at byte 3"),
        (
            "run\u{ffff}",
            "the non-characters U+FFFE, U+FFFF and U+10FFFF: found U+FFFF at byte 3",
        ),
    ];
    for (name, rule) in classes {
        assert_eq!(
            field_errors(with(|c| c.name = Some(name.into()))).await,
            [field("name", &format!("must not contain {rule}"))],
            "{name:?}"
        );
    }
}

#[tokio::test]
async fn input_boundaries_in_utf8_bytes() {
    // A JSON string of three-byte characters padded with white space to the limit.
    let text = format!("\"{}\"", "€".repeat((262_144 - 2) / 3));
    let at_limit = format!("{text}{}", " ".repeat(262_144 - text.len()));
    assert_eq!(at_limit.len(), 262_144);
    assert_eq!(
        field_errors(with(|c| c.input = Some(at_limit.clone()))).await,
        []
    );
    let over = at_limit + " ";
    assert_eq!(
        field_errors(with(|c| c.input = Some(over))).await,
        [field(
            "input",
            "must be at most 262144 bytes as UTF-8, got 262145"
        )]
    );
    assert_eq!(
        field_errors(with(|c| c.input = Some(String::new()))).await,
        [field(
            "input",
            "must be valid JSON: EOF while parsing a value at line 1 column 0"
        )]
    );
    for scalar in ["[1,2]", "\"text\"", "3.5e2", "null", " {\"a\" : true}\n"] {
        assert_eq!(
            field_errors(with(|c| c.input = Some(scalar.into()))).await,
            [],
            "{scalar}"
        );
    }
}

#[tokio::test]
async fn arn_forms_and_qualifiers() {
    for suffix in ["", ":10", ":PROD", ":1a", ":v2.beta-1_x"] {
        let arn = format!("{ARN}{suffix}");
        assert_eq!(field_errors(config(&arn)).await, [], "{arn}");
    }
    let cases = [
        (
            format!("{ARN}/mapLabel"),
            "'HelloWorld/mapLabel' is a Distributed Map run label, which StartExecution does not accept: use the state machine's own ARN",
        ),
        (
            format!("{ARN}:PR*D"),
            "alias 'PR*D' may contain only letters, digits, '_', '-' and '.': found '*' (U+002A)",
        ),
        (
            "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run".into(),
            "resource type must be 'stateMachine', got 'execution'",
        ),
        (
            "arn:aws-cn:states:us-east-1:123456789012:stateMachine:m".into(),
            "region 'us-east-1' belongs to partition aws, not to the ARN's partition aws-cn",
        ),
        (
            "arn:aws:states:us-east-1:12345678901:stateMachine:m".into(),
            "account id must be 12 digits, got '12345678901'",
        ),
        (String::new(), "is required and must not be empty"),
    ];
    for (arn, message) in cases {
        assert_eq!(
            field_errors(config(&arn)).await,
            [field("state_machine_arn", message)],
            "{arn}"
        );
    }
}

#[tokio::test]
async fn region_and_trace_header_rules() {
    assert_eq!(
        field_errors(with(|c| c.region = Some("eu-west-1".into()))).await,
        [field(
            "region",
            "'eu-west-1' differs from the region of state_machine_arn ('us-east-1'); a state machine can only be started in its own region"
        )]
    );
    assert_eq!(
        field_errors(with(|c| c.region = Some("us-east-1".into()))).await,
        []
    );
    assert_eq!(
        field_errors(with(|c| c.trace_header = Some("R".repeat(256)))).await,
        []
    );
    assert_eq!(
        field_errors(with(|c| c.trace_header = Some("R".repeat(257)))).await,
        [field(
            "trace_header",
            "must be at most 256 characters, got 257"
        )]
    );
    assert_eq!(
        field_errors(with(|c| c.trace_header = Some("Root=1\nSampled=1".into()))).await,
        [field(
            "trace_header",
            "must not contain CR or LF: found one at byte 6"
        )]
    );
}

#[test]
fn debug_output_of_host_types_hides_secrets() {
    let options = ClientOptions {
        credentials: Some(Credentials {
            access_key_id: AKID.into(),
            secret_access_key: SECRET.into(),
            session_token: Some(TOKEN.into()),
        }),
        ..options(None)
    };
    let shown = format!(
        "{options:?} {:?}",
        support::host("http://127.0.0.1:9", Some(TOKEN))
    );
    assert!(shown.contains(AKID), "{shown}");
    assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
}

/// What `wasm-tools component wit` shows: the WIT decoded from the built component. Its
/// `sfn:action` package must be the one in `wit/`, item for item (docs aside), and its world
/// must export both interfaces.
#[test]
fn the_decoded_component_wit_is_the_contract() {
    let wit_component::DecodedWasm::Component(decoded, world) =
        wit_component::decode(sfn_host::COMPONENT).unwrap()
    else {
        panic!("not a component")
    };
    let exports: Vec<String> = decoded.worlds[world]
        .exports
        .keys()
        .map(|key| decoded.name_world_key(key))
        .collect();
    assert_eq!(
        exports,
        ["sfn:action/types@0.1.0", "sfn:action/start-execution@0.1.0"]
    );

    let mut source = wit_parser::Resolve::default();
    let (package, _) = source
        .push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../wit"))
        .unwrap();
    let print = |resolve: &wit_parser::Resolve, name: &str| {
        let (id, _) = resolve
            .packages
            .iter()
            .find(|(_, p)| p.name.to_string() == name)
            .unwrap_or_else(|| panic!("{name} in the resolve"));
        let mut printer = wit_component::WitPrinter::default();
        printer.emit_docs(false);
        printer.print(resolve, id, &[]).unwrap();
        printer.output.to_string()
    };
    let in_component = print(&decoded, "sfn:action@0.1.0");
    let in_source = print(&source, &source.packages[package].name.to_string());
    // The component carries the interfaces its world exports; the world itself is the
    // component's own.
    let interfaces = |wit: &str| wit.split("world plugin").next().unwrap().trim().to_string();
    assert_eq!(interfaces(&in_component), interfaces(&in_source));
    assert!(
        in_component.contains("interface start-execution"),
        "{in_component}"
    );
}
