//! `sfn-start` takes credentials where the AWS CLI finds them: the shared files' profiles, a
//! credential process, container credentials, IMDSv2, and (in `moto`) roles to assume and
//! web identity. Each source is real, on 127.0.0.1: a temporary `HOME` with shared files, a
//! script, and fakes of the container and instance metadata endpoints. The stand-in checks
//! that the request was signed with exactly the credentials the source gave.
//!
//! Every run has `AWS_EC2_METADATA_DISABLED=true` but the IMDS one, which points the
//! provider at its fake instead.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use sfn_test_kit::server::{Answer, Received, Server};
use sfn_test_kit::sigv4::Credential;
use sfn_test_kit::standin::StandIn;
use sfn_test_kit::{ARN, EXECUTION_ARN};

use crate::{sfn_start_command, success};

/// A temporary home with `~/.aws/config` and `~/.aws/credentials`.
pub struct Home(PathBuf);

impl Home {
    pub fn new(config: &str, credentials: &str) -> Home {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("sfn-start-home-{}-{n}", std::process::id()));
        let aws = dir.join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        std::fs::write(aws.join("config"), config).unwrap();
        std::fs::write(aws.join("credentials"), credentials).unwrap();
        Home(dir)
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// An executable script in the home.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&path, permissions).unwrap();
        path
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sfn-start` started against `server` in `home`, with `env` and `args` added.
fn start(home: &Home, server: &StandIn, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = sfn_start_command();
    command
        .env("HOME", &home.0)
        .envs(env.iter().copied())
        .args(["--state-machine-arn", ARN, "--endpoint-url", &server.url()])
        .args(args);
    scanned(&mut command)
}

/// Every secret a source here hands out or holds: keys, session tokens, the SSO access
/// token, the web identity and container authorization tokens, and the tests' own.
const SECRETS: [&str; 18] = [
    sfn_test_kit::SECRET,
    sfn_test_kit::TOKEN,
    "dev-secret",
    "default-secret",
    "ci-secret",
    "a-token-from-the-ci-provider",
    "proc-secret",
    "proc-token",
    "container-secret",
    "container-token",
    "container-auth-token",
    "instance-secret",
    "instance-token",
    "web-secret",
    "web-token",
    "sso-secret",
    "sso-token",
    "sso-access-token",
];

/// Runs `command`, and asserts that no secret of any source appears in what it printed,
/// whether it succeeded or failed.
fn scanned(command: &mut std::process::Command) -> Output {
    let output = command.output().expect("sfn-start runs");
    for printed in [&output.stdout, &output.stderr] {
        let printed = text(printed);
        for secret in SECRETS {
            assert!(!printed.contains(secret), "{secret} in:\n{printed}");
        }
    }
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The run succeeded, and the stand-in accepted one request signed with its credential.
fn signed_by_the_source(output: &Output, server: &StandIn) {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains(EXECUTION_ARN));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].check,
        Ok(()),
        "signed with the source's credentials"
    );
}

const PROFILES: &str = "[default]\nregion = us-east-1\n[profile dev]\nregion = us-east-1\n";

#[test]
fn a_named_profile_of_the_shared_files() {
    let home = Home::new(
        PROFILES,
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n\
         [dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n",
    );
    for (env, args) in [
        (&[][..], &["--profile", "dev"][..]),
        (&[("AWS_PROFILE", "dev")][..], &[][..]),
    ] {
        let server = StandIn::start(vec![Credential::new("AKIDDEV", "dev-secret")], success);
        let output = start(&home, &server, env, args);
        signed_by_the_source(&output, &server);
        assert!(!text(&output.stderr).contains("dev-secret"));
    }
    // No profile named: `default`.
    let server = StandIn::start(
        vec![Credential::new("AKIDDEFAULT", "default-secret")],
        success,
    );
    signed_by_the_source(&start(&home, &server, &[], &[]), &server);
}

#[test]
fn the_files_can_live_elsewhere() {
    let elsewhere = Home::new("", "");
    let config = elsewhere.path("my-config");
    let credentials = elsewhere.path("my-credentials");
    std::fs::write(&config, "[profile ci]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = ci-secret\n",
    )
    .unwrap();
    let env = [
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
    ];
    let server = StandIn::start(vec![Credential::new("AKIDCI", "ci-secret")], success);
    signed_by_the_source(
        &start(&elsewhere, &server, &env, &["--profile", "ci"]),
        &server,
    );
}

#[test]
fn a_credential_process_and_what_it_says_when_it_fails() {
    let home = Home::new("", "");
    let process = home.script(
        "credentials.sh",
        r#"echo '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token"}'"#,
    );
    let failing = home.script(
        "failing.sh",
        "echo 'the token has expired, log in again' >&2\nexit 3",
    );
    let config = format!(
        "[profile proc]\ncredential_process = {}\n[profile failing]\ncredential_process = {}\n",
        process.display(),
        failing.display()
    );
    std::fs::write(home.path(".aws/config"), config).unwrap();
    let token = Credential::new("AKIDPROC", "proc-secret").with_session_token("proc-token");
    let server = StandIn::start(vec![token], success);
    signed_by_the_source(&start(&home, &server, &[], &["--profile", "proc"]), &server);

    let output = start(&home, &server, &[], &["--profile", "failing"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "\nerror: missing credentials: an error occurred while loading credentials: "
        ) && stderr.contains("exit status: 3")
            && stderr.contains("Stderr: the token has expired, log in again"),
        "{stderr}"
    );
}

/// A container credentials endpoint that wants its authorization token.
fn container_endpoint() -> Server {
    Server::start(|request: Received| async move {
        if request.header("authorization") != Some("container-auth-token") {
            return Answer::text(401, "unauthorized");
        }
        Answer::text(
            200,
            r#"{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"container-secret","Token":"container-token","Expiration":"2099-01-01T00:00:00Z"}"#,
        )
    })
}

#[test]
fn container_credentials_from_an_endpoint_on_127_0_0_1() {
    let home = Home::new("", "");
    let endpoint = container_endpoint();
    let uri = format!("{}/v2/credentials/task", endpoint.url());
    let env = [
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-auth-token"),
    ];
    let credential =
        Credential::new("ASIACONTAINER", "container-secret").with_session_token("container-token");
    let server = StandIn::start(vec![credential], success);
    signed_by_the_source(&start(&home, &server, &env, &[]), &server);
    let asked: Vec<(String, String)> = endpoint
        .received()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        asked,
        [("GET".to_string(), "/v2/credentials/task".to_string())]
    );
}

/// IMDSv2: a session token first (PUT), then the role's name and its credentials (GET), each
/// with the token.
fn instance_metadata() -> Server {
    Server::start(|request: Received| async move {
        let path = request.path.as_str();
        if request.method == "PUT" && path == "/latest/api/token" {
            return match request.header("x-aws-ec2-metadata-token-ttl-seconds") {
                Some(ttl) => {
                    let ttl = [("x-aws-ec2-metadata-token-ttl-seconds", ttl)];
                    Answer::with_headers(200, &ttl, "imds-session")
                }
                None => Answer::text(400, "no ttl"),
            };
        }
        if request.header("x-aws-ec2-metadata-token") != Some("imds-session") {
            return Answer::text(401, "IMDSv1 is off");
        }
        match path {
            "/latest/meta-data/iam/security-credentials/" => Answer::text(200, "instance-role"),
            "/latest/meta-data/iam/security-credentials/instance-role" => Answer::text(
                200,
                r#"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAINSTANCE","SecretAccessKey":"instance-secret","Token":"instance-token","Expiration":"2099-01-01T00:00:00Z"}"#,
            ),
            _ => Answer::text(404, "not found"),
        }
    })
}

#[test]
fn imdsv2_from_a_fake_metadata_service_on_127_0_0_1() {
    let home = Home::new("", "");
    let imds = instance_metadata();
    let mut command = sfn_start_command();
    // The one run with the metadata service on: the fake's.
    command
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())
        .env("HOME", &home.0);
    let credential =
        Credential::new("ASIAINSTANCE", "instance-secret").with_session_token("instance-token");
    let server = StandIn::start(vec![credential], success);
    let output =
        scanned(command.args(["--state-machine-arn", ARN, "--endpoint-url", &server.url()]));
    signed_by_the_source(&output, &server);
    let asked: Vec<String> = imds
        .received()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        asked,
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/instance-role",
        ]
    );
}

#[test]
fn a_missing_profile_or_a_malformed_file_is_named() {
    let home = Home::new("[profile dev]\nregion = us-east-1\n", "");
    let server = StandIn::start(vec![], success);
    let output = start(&home, &server, &[], &["--profile", "nope"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        format!(
            "Starting execution for state machine {ARN}...\nerror: missing credentials: none found; tried Environment (environment variable not set), Profile (profile `nope` was not defined: could not find source profile nope referenced from the root profile), WebIdentityToken ($AWS_WEB_IDENTITY_TOKEN_FILE was not set), EcsContainer (ECS provider not configured), Ec2InstanceMetadata (IMDS disabled by AWS_EC2_METADATA_DISABLED env var set to `true`)\n"
        )
    );
    let broken = Home::new("[profile dev\nregion = us-east-1\n", "");
    let output = start(&broken, &server, &[], &[]);
    assert_eq!(output.status.code(), Some(1));
    // aws-config's chain names the file's problem, not its path or line.
    assert_eq!(
        text(&output.stderr),
        format!(
            "Starting execution for state machine {ARN}...\nerror: missing credentials: the credentials provider was not properly configured: ProfileFile provider could not be built: invalid profile: could not parse profile file\n"
        )
    );
    assert_eq!(server.requests(), []);
    // Checking the arguments reads no file.
    let validate = start(&broken, &server, &[], &["--validate-only"]);
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}",
        text(&validate.stderr)
    );
}

#[test]
fn no_credentials_anywhere_lists_the_sources_in_moments() {
    let home = Home::new("", "");
    let server = StandIn::start(vec![], success);
    let started = Instant::now();
    let output = start(&home, &server, &[], &[]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        format!(
            "Starting execution for state machine {ARN}...\nerror: missing credentials: none found; tried Environment (environment variable not set), Profile (nothing configured), WebIdentityToken ($AWS_WEB_IDENTITY_TOKEN_FILE was not set), EcsContainer (ECS provider not configured), Ec2InstanceMetadata (IMDS disabled by AWS_EC2_METADATA_DISABLED env var set to `true`)\n"
        )
    );
    assert_eq!(server.requests(), []);
}

/// STS's AssumeRoleWithWebIdentity (an unsigned call: moto, with its signature checks on,
/// refuses it), answering for one role and one token.
fn web_identity_sts() -> Server {
    Server::start(|request: Received| async move {
        let form = String::from_utf8_lossy(&request.body).into_owned();
        let wanted = [
            "Action=AssumeRoleWithWebIdentity",
            "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci",
            "WebIdentityToken=a-token-from-the-ci-provider",
            "RoleSessionName=sfn-start-ci",
        ];
        if let Some(missing) = wanted.iter().find(|part| !form.contains(*part)) {
            return Answer::text(400, format!("expected {missing} in {form}"));
        }
        Answer::with_headers(
            200,
            &[("content-type", "text/xml")],
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAWEBIDENTITY</AccessKeyId><SecretAccessKey>web-secret</SecretAccessKey><SessionToken>web-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        )
    })
}

#[test]
fn web_identity_from_a_token_file_and_sts_on_127_0_0_1() {
    let home = Home::new("", "");
    let token = home.path("web-identity-token");
    std::fs::write(&token, "a-token-from-the-ci-provider").unwrap();
    let sts = web_identity_sts();
    let env = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci"),
        ("AWS_ROLE_SESSION_NAME", "sfn-start-ci"),
        ("AWS_ENDPOINT_URL_STS", &sts.url()),
    ];
    let credential =
        Credential::new("ASIAWEBIDENTITY", "web-secret").with_session_token("web-token");
    let server = StandIn::start(vec![credential], success);
    signed_by_the_source(&start(&home, &server, &env, &[]), &server);
    assert_eq!(sts.received().len(), 1);
}

/// The AWS access portal's GetRoleCredentials, for one account, role and access token.
fn sso_portal() -> Server {
    Server::start(|request: Received| async move {
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let mut query: Vec<&str> = query.split('&').collect();
        query.sort();
        let asked = path == "/federation/credentials"
            && query == ["account_id=123456789012", "role_name=Deployer"];
        if !asked || request.header("x-amz-sso_bearer_token") != Some("sso-access-token") {
            return Answer::text(
                401,
                format!("unexpected {} {:?}", request.path, request.headers),
            );
        }
        Answer::with_headers(
            200,
            &[("content-type", "application/json")],
            r#"{"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"sso-secret","sessionToken":"sso-token","expiration":4070908800000}}"#,
        )
    })
}

/// A token as `aws sso login` caches it, under the SHA-1 of `key` (the session's name, or a
/// legacy profile's start URL).
fn cache_token(home: &Home, key: &str, expires_at: &str) {
    use sha1::Digest;
    let name = hex(&sha1::Sha1::digest(key.as_bytes()));
    let dir = home.path(".aws/sso/cache");
    std::fs::create_dir_all(&dir).unwrap();
    let token = format!(
        r#"{{"accessToken":"sso-access-token","expiresAt":"{expires_at}","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}}"#
    );
    std::fs::write(dir.join(format!("{name}.json")), token).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const SSO_CONFIG: &str = "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Deployer\nregion = us-east-1\n\
[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\n\
[profile legacy]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Deployer\nregion = us-east-1\n";

#[test]
fn sso_from_the_login_cache_and_a_portal_on_127_0_0_1() {
    let portal = sso_portal();
    let env = [("AWS_ENDPOINT_URL_SSO", portal.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (profile, key) in [
        ("sso", "corp"),
        ("legacy", "https://corp.awsapps.com/start"),
    ] {
        let home = Home::new(SSO_CONFIG, "");
        cache_token(&home, key, "2099-01-01T00:00:00Z");
        let credential = Credential::new("ASIASSO", "sso-secret").with_session_token("sso-token");
        let server = StandIn::start(vec![credential], success);
        signed_by_the_source(
            &start(&home, &server, &env, &["--profile", profile]),
            &server,
        );
    }
    assert_eq!(portal.received().len(), 2);
}

#[test]
fn an_expired_sso_session_says_to_log_in_again() {
    let home = Home::new(SSO_CONFIG, "");
    cache_token(&home, "corp", "2020-01-01T00:00:00Z");
    let portal = sso_portal();
    let server = StandIn::start(vec![], success);
    let env = [("AWS_ENDPOINT_URL_SSO", portal.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = start(&home, &server, &env, &["--profile", "sso"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("run `aws sso login --profile sso`"),
        "{stderr}"
    );
    assert_eq!((portal.received().len(), server.requests().len()), (0, 0));
}

/// Variables added to a run.
type Env<'a> = &'a [(&'a str, &'a str)];

/// `sfn-start --dry-run` in `home`: the URL it would send to.
fn dry_run_url(home: &Home, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut command = sfn_start_command();
    command
        .env("HOME", home.dir())
        .envs(env.iter().copied())
        .args(["--state-machine-arn", ARN, "--dry-run"])
        .args(args);
    let output = scanned(&mut command);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    printed["url"].as_str().unwrap().to_string()
}

const KEYS: &str = "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n";

#[test]
fn the_profile_says_where_requests_go_and_flags_win() {
    let config = "[default]\nregion = us-east-1\n\
        [profile fips]\nuse_fips_endpoint = true\n\
        [profile dual]\nuse_dualstack_endpoint = true\n\
        [profile local]\nendpoint_url = http://127.0.0.1:4566\n\
        [profile services]\nservices = emulators\nendpoint_url = http://127.0.0.1:1\n\
        [services emulators]\nsfn =\n  endpoint_url = http://127.0.0.1:8083\n\
        [profile ignoring]\nendpoint_url = http://127.0.0.1:4566\nignore_configured_endpoint_urls = true\n";
    // The same keys under every profile.
    let credentials: String = ["default", "fips", "dual", "local", "services", "ignoring"]
        .iter()
        .map(|p| KEYS.replace("[default]", &format!("[{p}]")))
        .collect();
    let home = Home::new(config, &credentials);
    let cases: [(Env, &[&str], &str); 11] = [
        (&[], &[], "https://states.us-east-1.amazonaws.com/"),
        (
            &[],
            &["--profile", "fips"],
            "https://states-fips.us-east-1.amazonaws.com/",
        ),
        (
            &[],
            &["--profile", "dual"],
            "https://states.us-east-1.api.aws/",
        ),
        (
            &[("AWS_USE_FIPS_ENDPOINT", "true")],
            &[],
            "https://states-fips.us-east-1.amazonaws.com/",
        ),
        (&[], &["--profile", "local"], "http://127.0.0.1:4566/"),
        // The services section's `sfn` is more specific than the profile's endpoint_url.
        (&[], &["--profile", "services"], "http://127.0.0.1:8083/"),
        // A flag wins over the profile.
        (
            &[],
            &[
                "--profile",
                "local",
                "--endpoint-url",
                "http://127.0.0.1:9999",
            ],
            "http://127.0.0.1:9999/",
        ),
        // Ignoring configured endpoints drops the variables and the files, as the SDKs do,
        // whether the variable or the profile says so; a flag still wins.
        (
            &[
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
                ("AWS_ENDPOINT_URL_SFN", "http://127.0.0.1:7"),
            ],
            &["--profile", "local"],
            "https://states.us-east-1.amazonaws.com/",
        ),
        (
            &[("AWS_ENDPOINT_URL", "http://127.0.0.1:7")],
            &["--profile", "ignoring"],
            "https://states.us-east-1.amazonaws.com/",
        ),
        (
            &[("AWS_ENDPOINT_URL", "http://127.0.0.1:7")],
            &[],
            "http://127.0.0.1:7/",
        ),
        (
            &[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")],
            &["--endpoint-url", "http://127.0.0.1:9999"],
            "http://127.0.0.1:9999/",
        ),
    ];
    for (env, args, url) in cases {
        assert_eq!(dry_run_url(&home, env, args), url, "{env:?} {args:?}");
    }
}

#[test]
fn an_endpoint_from_the_profile_is_allowed_out_and_its_attempts_count() {
    let server = StandIn::start(
        vec![Credential::new(sfn_test_kit::AKID, sfn_test_kit::SECRET)],
        |_| sfn_test_kit::standin::Reply::error(503, "ServiceUnavailable", "later", "r"),
    );
    let config = format!(
        "[default]\nregion = us-east-1\nendpoint_url = {}\nmax_attempts = 2\n[profile bad]\nmax_attempts = many\n",
        server.url()
    );
    let home = Home::new(&config, KEYS);
    let mut command = sfn_start_command();
    command
        .env("HOME", home.dir())
        .args(["--state-machine-arn", ARN]);
    let output = scanned(&mut command);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr)
            .contains("ServiceUnavailable: later (HTTP 503, request id r) (after 2 attempts)\nhint: an attempt may have started "),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        server.requests().len(),
        2,
        "the policy let the profile's endpoint through"
    );
    let mut command = sfn_start_command();
    command
        .env("HOME", home.dir())
        .args(["--state-machine-arn", ARN, "--profile", "bad"]);
    let output = scanned(&mut command);
    // The arguments are valid, so the configuration is read, after the first line.
    assert_eq!(
        text(&output.stderr),
        format!(
            "Starting execution for state machine {ARN}...\nerror: reading the AWS configuration: the shared config's max_attempts is \"many\": it must be a whole number, at least 1\n"
        )
    );
}

#[test]
fn an_invalid_call_reads_no_configuration_and_asks_no_source() {
    let home = Home::new("", "");
    let marker = home.path("asked");
    let process = home.script(
        "credentials.sh",
        &format!(
            "touch {}\necho '{{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}}'",
            marker.display()
        ),
    );
    let config = format!("[default]\ncredential_process = {}\n", process.display());
    std::fs::write(home.path(".aws/config"), config).unwrap();
    let server = StandIn::start(vec![], success);
    for extra in [&[][..], &["--dry-run"], &["--sync"], &["--wait"]] {
        let mut command = sfn_start_command();
        command
            .env("HOME", home.dir())
            .args([
                "--state-machine-arn",
                "nope",
                "--name",
                "a b",
                "--input",
                "{",
            ])
            .args(["--endpoint-url", &server.url()])
            .args(extra);
        let output = scanned(&mut command);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {output:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("state_machine_arn:")
                && stderr.contains("  name:")
                && stderr.contains("  input:"),
            "{extra:?}: {stderr}"
        );
        assert!(!marker.exists(), "{extra:?}: the credential process ran");
    }
    assert_eq!(server.requests(), []);
    // A valid call does ask it.
    let output = start(&home, &server, &[], &["--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(marker.exists());
}
