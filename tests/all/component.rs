//! The real component through the host library, without any network: its interface, the
//! wiring of validation, and signing checked against the shared vector and an independent
//! verifier.

use std::time::{Duration, SystemTime};

use crate::{config, options, runtime};
use sfn_host::{
    ClientOptions, Credentials, Error, FieldError, HostConfig, SignedRequest, StartExecutionConfig,
};
use sfn_test_kit::fixtures;
use sfn_test_kit::sigv4::{self, Credential};
use sfn_test_kit::{AKID, ARN, SECRET, TOKEN};

/// The signing time of the shared vector.
fn vector_time() -> SystemTime {
    fixtures::sigv4_vector().time()
}

/// A host with the kit's temporary credentials, at the shared vector's time.
fn signing_host() -> HostConfig {
    at_vector_time(crate::host("http://127.0.0.1:9"))
}

/// The same with long-term credentials: no session token.
fn long_term_host() -> HostConfig {
    at_vector_time(crate::host_without_token("http://127.0.0.1:9"))
}

fn at_vector_time(mut host: HostConfig) -> HostConfig {
    host.wall_clock = Some(vector_time());
    host
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
        ["sfn:action/types@0.2.0", "sfn:action/start-execution@0.2.0"]
    );
    let imports: Vec<String> = ty.imports(&engine).map(|(n, _)| n.to_string()).collect();
    for needed in [
        "wasi:http/outgoing-handler@0.2.12",
        "wasi:cli/environment@0.2.12",
        "wasi:clocks/wall-clock@0.2.12",
        "wasi:clocks/monotonic-clock@0.2.12",
        "wasi:random/random@0.2.12",
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
        wasmtime::component::Component::from_file(&engine, sfn_host::COMMAND_WASM).unwrap();
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

/// The shared vector (`tests/fixtures/sigv4-vector.json`), byte for byte.
#[tokio::test]
async fn prepare_reproduces_the_botocore_vector_byte_for_byte() {
    let vector = fixtures::sigv4_vector();
    let host = {
        let mut c = HostConfig::default();
        c.env = vec![
            ("AWS_ACCESS_KEY_ID".into(), vector.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                vector.secret_access_key.clone(),
            ),
        ];
        c.wall_clock = Some(vector.time());
        c
    };
    let request = runtime(host)
        .prepare(&config(&vector.state_machine_arn), &options(None))
        .await
        .unwrap();
    let expected = SignedRequest {
        method: vector.request.method,
        url: vector.request.url,
        headers: vector.request.headers,
        body: vector.request.body,
    };
    assert_eq!(request, Ok(expected));
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

/// Every row of the endpoint table (`tests/fixtures/endpoints.txt`): each partition, with
/// and without FIPS and dual-stack, signed for the ARN's region.
#[tokio::test]
async fn every_partition_fips_and_dual_stack_signs_for_the_arns_region() {
    let runtime = runtime(signing_host());
    let credential = Credential::new(AKID, SECRET).with_session_token(TOKEN);
    let mut checked = 0;
    for row in fixtures::endpoints() {
        let region = row.region.as_str();
        let partition = partition_of(region);
        let arn = format!("arn:{partition}:states:{region}:123456789012:stateMachine:m");
        for (fips, dual, url) in &row.urls {
            let opts = ClientOptions {
                use_fips: *fips,
                use_dual_stack: *dual,
                ..options(None)
            };
            let request = runtime
                .prepare(&config(&arn), &opts)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                request.url,
                format!("{url}/"),
                "{arn} fips={fips} dual={dual}"
            );
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
            checked += 1;
        }
    }
    assert_eq!(checked, 52);
}

/// The partition of a region of the table, from the endpoint's DNS suffix alone, so that
/// the test does not lean on the code it checks.
fn partition_of(region: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 8] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
        ("", "aws"),
    ];
    let found = PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix));
    found.map(|(_, partition)| *partition).unwrap_or("aws")
}

#[tokio::test]
async fn explicit_credentials_win_over_the_environment() {
    let runtime = runtime(signing_host());
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

/// Instances are kept between calls, but only for the runtime that made them: the
/// component reads its environment once per instance, so a runtime with other credentials
/// in its environment that ran in another's instance would sign with that one's.
#[tokio::test]
async fn each_runtime_signs_with_its_own_environment_call_after_call() {
    let first = runtime(long_term_host());
    let mut other_host = long_term_host();
    other_host.env = vec![
        ("AWS_ACCESS_KEY_ID".into(), "AKIDOTHER".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "other-secret".into()),
    ];
    let other = first.with_config(other_host).unwrap();
    for _ in 0..3 {
        for (runtime, credential) in [
            (&first, Credential::new(AKID, SECRET)),
            (&other, Credential::new("AKIDOTHER", "other-secret")),
        ] {
            let request = runtime.prepare(&config(ARN), &options(None)).await;
            verify(&request.unwrap().unwrap(), credential);
        }
    }
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
    let runtime = runtime(signing_host());
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

/// `validate` through the component: each rule's wording is the core's to test (its unit
/// tests, at every boundary); this checks that every field error crosses the boundary, in
/// argument order, and that a valid config passes.
#[tokio::test]
async fn validate_reports_every_broken_rule_through_the_component() {
    let runtime = runtime(HostConfig::default());
    let valid = config(&format!("{ARN}:PROD"));
    assert_eq!(runtime.validate(&valid).await.unwrap(), Ok(()));
    let broken = sfn_host::StartExecutionConfig {
        input: Some(String::new()),
        name: Some("𝄞".repeat(81)),
        trace_header: Some("R".repeat(257)),
        ..config(&format!("{ARN}/mapLabel"))
    };
    assert_eq!(
        runtime.validate(&broken).await.unwrap(),
        Err(vec![
            field(
                "state_machine_arn",
                "'HelloWorld/mapLabel' is a Distributed Map run label, which StartExecution does not accept: use the state machine's own ARN",
            ),
            field(
                "input",
                "must be valid JSON: EOF while parsing a value at line 1 column 0",
            ),
            field(
                "name",
                "must be at most 80 characters (Unicode scalar values), got 81",
            ),
            field("trace_header", "must be at most 256 characters, got 257"),
        ])
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
    let shown = format!("{options:?} {:?}", crate::host("http://127.0.0.1:9"));
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
        ["sfn:action/types@0.2.0", "sfn:action/start-execution@0.2.0"]
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
    let in_component = print(&decoded, "sfn:action@0.2.0");
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

/// What `wasm-tools metadata show` reads from each built component: who it is, its version,
/// what it does, its licence and where its source lives, at the component's top level.
#[test]
fn both_components_carry_their_metadata() {
    let source = "https://github.com/sfn-action/sfn-start-execution";
    for (path, name, description) in [
        (
            sfn_host::PLUGIN_WASM,
            "sfn-start-execution",
            "Starts AWS Step Functions executions from any component-model runtime: exports sfn:action/start-execution (validate, prepare, start, start-sync, describe, wait) over wasi:http",
        ),
        (
            sfn_host::COMMAND_WASM,
            "sfn-start-command",
            "sfn-start as a WASI command component: starts AWS Step Functions executions under `wasmtime run -S http` or any WASI 0.2 runtime",
        ),
    ] {
        let wasm = std::fs::read(path).unwrap();
        let wasm_metadata::Payload::Component { metadata, .. } =
            wasm_metadata::Payload::from_binary(&wasm).unwrap()
        else {
            panic!("{path} is not a component")
        };
        let text = |field: Option<String>| field.unwrap_or_default();
        assert_eq!(
            (
                text(metadata.name),
                text(metadata.version.map(|v| v.to_string())),
                text(metadata.description.map(|d| d.to_string())),
                text(metadata.licenses.map(|l| l.to_string())),
                text(metadata.source.map(|s| s.to_string())),
            ),
            (
                name.to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
                description.to_string(),
                "Apache-2.0".to_string(),
                source.to_string(),
            ),
            "{path}"
        );
    }
    // The embedded plugin is the stamped file.
    assert_eq!(
        std::fs::read(sfn_host::PLUGIN_WASM).unwrap(),
        sfn_host::COMPONENT
    );
}

/// An input larger than the component's whole memory: the host refuses it with the
/// field errors the component gives for any input over the limit, and never copies it in.
#[tokio::test]
async fn an_input_larger_than_the_components_memory_is_a_field_error_not_a_trap() {
    let mut host = HostConfig::default();
    host.memory_limit = 8 << 20;
    let runtime = runtime(host);
    let huge = "x".repeat(16 << 20);
    let mut big = config(ARN);
    big.input = Some(huge);
    let expected = vec![
        field(
            "input",
            &format!("must be at most 262144 bytes as UTF-8, got {}", 16 << 20),
        ),
        field(
            "input",
            "must be valid JSON: expected value at line 1 column 1",
        ),
    ];
    assert_eq!(runtime.validate(&big).await.unwrap(), Err(expected.clone()));
    let refused = runtime.start(&big, &options(None)).await.unwrap();
    let failure = refused.expect_err("refused");
    assert_eq!(failure.error, Error::InvalidConfig(expected.clone()));
    assert_eq!(failure.attempts, 0);
    let prepared = runtime.prepare(&big, &ClientOptions::default()).await;
    assert_eq!(prepared.unwrap(), Err(Error::InvalidConfig(expected)));
}

/// Every argument of the config, not only the input: each as long as the component's
/// whole memory gets its own rule's error, which quotes none of it.
#[tokio::test]
async fn any_argument_larger_than_the_components_memory_is_a_field_error_not_a_trap() {
    let mut host = HostConfig::default();
    host.memory_limit = 8 << 20;
    let runtime = runtime(host);
    let huge = "a".repeat(16 << 20);
    let count = 16 << 20;
    let cases = [
        (
            StartExecutionConfig {
                state_machine_arn: huge.clone(),
                ..config(ARN)
            },
            field(
                "state_machine_arn",
                &format!("must be at most 256 characters, got {count}"),
            ),
        ),
        (
            StartExecutionConfig {
                name: Some(huge.clone()),
                ..config(ARN)
            },
            field(
                "name",
                &format!("must be at most 80 characters (Unicode scalar values), got {count}"),
            ),
        ),
        (
            StartExecutionConfig {
                region: Some(huge.clone()),
                ..config(ARN)
            },
            field(
                "region",
                &format!("must be at most 64 characters, got {count}"),
            ),
        ),
        (
            StartExecutionConfig {
                trace_header: Some(huge.clone()),
                ..config(ARN)
            },
            field(
                "trace_header",
                &format!("must be at most 256 characters, got {count}"),
            ),
        ),
    ];
    for (big, expected) in cases {
        assert_eq!(
            runtime.validate(&big).await.unwrap(),
            Err(vec![expected.clone()])
        );
        let refused = runtime.start(&big, &options(None)).await.unwrap();
        let failure = refused.expect_err("refused");
        assert_eq!(failure.error, Error::InvalidConfig(vec![expected]));
        assert_eq!(failure.attempts, 0);
    }
}

/// The same for the client options and an execution ARN: refused by the host, by the rule
/// that no text the service takes is longer than an input, before the component sees them.
#[tokio::test]
async fn any_option_larger_than_the_components_memory_is_a_field_error_not_a_trap() {
    let mut host = HostConfig::default();
    host.memory_limit = 8 << 20;
    let runtime = runtime(host);
    let huge = "a".repeat(16 << 20);
    let too_long = |name: &str| {
        Error::InvalidConfig(vec![field(
            name,
            &format!("must be at most 262144 bytes, got {}", 16 << 20),
        )])
    };
    let long_endpoint = ClientOptions {
        endpoint_url: Some(huge.clone()),
        ..options(None)
    };
    let long_secret = ClientOptions {
        credentials: Some(Credentials {
            access_key_id: AKID.into(),
            secret_access_key: huge.clone(),
            session_token: Some(huge.clone()),
        }),
        ..options(None)
    };
    for (options, name) in [
        (long_endpoint, "endpoint_url"),
        (long_secret, "credentials"),
    ] {
        let prepared = runtime.prepare(&config(ARN), &options).await.unwrap();
        assert_eq!(prepared, Err(too_long(name)));
        let failure = runtime
            .start(&config(ARN), &options)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!((failure.error, failure.attempts), (too_long(name), 0));
    }
    let failure = runtime
        .describe(&huge, &options(None))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(failure.error, too_long("execution_arn"));
    let waited = runtime
        .wait(&huge, &options(None), Duration::from_secs(1))
        .await;
    assert_eq!(
        waited.unwrap().unwrap_err().error,
        too_long("execution_arn")
    );
}
