"""The Python host (bindings/python/sfn_action.py) running the built plugin component under
wasmtime-py, against moto (which checks every request's SigV4 signature) and loopback
stand-ins. Each execution started is checked with moto's own DescribeExecution, through
tests/peers/moto_peer.py, not with what the component says. The same ground as the Node test
(tests/node/start-execution.test.mjs), plus the compiled-code cache.

    SFN_PLUGIN_WASM=target/guest/wasm32-wasip2/guest/sfn_start_execution.wasm \\
      target/peers/venv/bin/python -m unittest discover -s tests/python -v

SFN_PLUGIN_WASM defaults to that path; the Python running the tests must have wasmtime and
moto (tests/peers/requirements.txt). tests/run sets up both.
"""

import json
import os
import queue
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
import warnings
from pathlib import Path
from unittest import mock

# Nothing here may reach a metadata service, whatever reads a credential chain.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parent.parent
BINDINGS = WORKSPACE / "bindings" / "python"
sys.path.insert(0, str(BINDINGS))
sys.path.insert(0, str(HERE))

WASM = Path(
    os.environ.get(
        "SFN_PLUGIN_WASM",
        WORKSPACE / "target/guest/wasm32-wasip2/guest/sfn_start_execution.wasm",
    )
)
MOTO_PEER = WORKSPACE / "tests/peers/moto_peer.py"
LOGS = WORKSPACE / "target/python"
HOW = "run the project's test script, tests/run, which sets it up"

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _require_peers():
    """What these tests need, or a failure that says how to get it (nothing is skipped)."""
    if not WASM.is_file():
        raise RuntimeError(f"{WASM} (the plugin component) is missing: {HOW} (or set SFN_PLUGIN_WASM)")
    try:
        import moto  # noqa: F401
        import wasmtime  # noqa: F401
    except ImportError as e:
        raise RuntimeError(f"{sys.executable} lacks {e.name}: {HOW} and use its venv's python") from e


_require_peers()

import sfn_action  # noqa: E402
from sfn_action import (  # noqa: E402
    ClientOptions,
    Credentials,
    FieldError,
    ServiceError,
    StartExecutionConfig,
)
from standin import StandIn  # noqa: E402


# --- moto ------------------------------------------------------------------------------


class MotoPeer:
    """moto_peer.py: one JSON line about moto, then one answer line per command. Every read
    is bounded; moto stops when the peer's standard input closes."""

    def __init__(self, running=False):
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / ("moto-running.log" if running else "moto.log")
        args = [sys.executable, str(MOTO_PEER), str(log)] + (["running"] if running else [])
        self._process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._log = log

    def _read(self):
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next(self, what, timeout):
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"moto_peer.py said nothing within {timeout} s while {what} (log: {self._log})")
        if line is None:
            raise AssertionError(f"moto_peer.py exited while {what} (log: {self._log})")
        return json.loads(line)

    def ready(self):
        self.info = self._next("starting moto", 120)
        return self

    def describe(self, execution_arn):
        """moto's DescribeExecution, signed by botocore with the user's key."""
        self._process.stdin.write(json.dumps({"op": "describe", "executionArn": execution_arn}) + "\n")
        self._process.stdin.flush()
        answer = self._next("answering", 30)
        assert "ok" in answer, f"DescribeExecution {execution_arn}: {answer}"
        return answer["ok"]

    def stop(self):
        self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()


moto = running = None
PLUGIN = None


def setUpModule():
    global moto, running, PLUGIN
    # Both start at once: moto takes seconds to come up.
    starting = [MotoPeer(), MotoPeer(running=True)]
    moto, running = (peer.ready() for peer in starting)
    # An empty environment: credentials and endpoints come only from what a test passes.
    PLUGIN = sfn_action.Plugin(WASM, env={})


def tearDownModule():
    for peer in (moto, running):
        if peer is not None:
            peer.stop()


def machine(**fields):
    """A config for moto's HelloWorld state machine."""
    return StartExecutionConfig(state_machine_arn=moto.info["stateMachineArn"], **fields)


def execution_arn_of(name, state_machine_arn=None):
    """The ARN Step Functions gives the execution `name` of a state machine."""
    arn = state_machine_arn or moto.info["stateMachineArn"]
    return f"{arn.replace(':stateMachine:', ':execution:')}:{name}"


def unique(prefix):
    """A name no other test of this run uses: moto's state lasts the whole module."""
    return f"{prefix}-{int(time.time() * 1000)}-{secrets.token_hex(4)}"


def user(peer=None):
    info = (peer or moto).info
    return Credentials(info["accessKeyId"], info["secretAccessKey"])


def session():
    s = moto.info["session"]
    return Credentials(s["accessKeyId"], s["secretAccessKey"], s["sessionToken"])


def options(credentials=None, endpoint_url=None, **more):
    return ClientOptions(
        credentials=credentials or user(), endpoint_url=endpoint_url or moto.info["endpoint"], **more
    )


def running_options():
    return options(user(running), running.info["endpoint"])


def python_date_ms(text):
    """moto's startDate, Python's str(datetime) `2026-01-02 03:04:05.678000+00:00`, in ms."""
    from datetime import datetime

    return round(datetime.fromisoformat(text).timestamp() * 1000)


# --- validate --------------------------------------------------------------------------


class Validate(unittest.TestCase):
    def errors(self, config):
        with self.assertRaises(sfn_action.InvalidConfig) as caught:
            PLUGIN.validate(config)
        failure = caught.exception
        self.assertEqual((failure.attempts, failure.maybe_started), (0, None))
        self.assertIsInstance(failure.error, sfn_action.InvalidConfigError)
        return failure.field_errors

    def test_a_good_config_returns_none(self):
        self.assertIsNone(PLUGIN.validate(StartExecutionConfig(ARN)))
        full = StartExecutionConfig(
            state_machine_arn=f"{ARN}:PROD",
            input=' {"a" : [1, 2.5e3, null]}\n',
            name="run-1",
            region="us-east-1",
            trace_header="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        )
        self.assertIsNone(PLUGIN.validate(full))

    def test_every_broken_rule_comes_back_at_once_in_argument_order(self):
        errors = self.errors(
            StartExecutionConfig(ARN, input='{"a":', name="ж" * 81, region="eu-west-1")
        )
        self.assertEqual(
            errors,
            [
                FieldError("input", "must be valid JSON: EOF while parsing a value at line 1 column 5"),
                FieldError("name", "must be at most 80 characters (Unicode scalar values), got 81"),
                FieldError(
                    "region",
                    "'eu-west-1' differs from the region of state_machine_arn ('us-east-1'); "
                    "a state machine can only be started in its own region",
                ),
            ],
        )

    def test_all_five_arguments_broken_one_field_with_two_errors(self):
        errors = self.errors(
            StartExecutionConfig("", input="", name="a b", region="Mars", trace_header="é\n")
        )
        self.assertEqual(
            errors,
            [
                FieldError("state_machine_arn", "is required and must not be empty"),
                FieldError("input", "must be valid JSON: EOF while parsing a value at line 1 column 0"),
                FieldError("name", "must not contain white space: found U+0020 at byte 1"),
                FieldError(
                    "region",
                    "'Mars' is not a region name: use lower-case letters, digits and single "
                    "hyphens, such as us-east-1",
                ),
                FieldError("trace_header", "must contain only ASCII characters: found 'é' (U+00E9) at byte 0"),
                FieldError("trace_header", "must not contain CR or LF: found one at byte 2"),
            ],
        )
        # The exception's text lists them all, one after another.
        failure = sfn_action.InvalidConfig(sfn_action.InvalidConfigError(errors[:2]))
        self.assertEqual(
            str(failure),
            "invalid arguments: state_machine_arn: is required and must not be empty; "
            "input: must be valid JSON: EOF while parsing a value at line 1 column 0",
        )

    def test_strings_cross_as_utf8_lengths_in_scalar_values_positions_in_bytes(self):
        self.assertIsNone(PLUGIN.validate(StartExecutionConfig(ARN, name="𝄞" * 80)))
        self.assertEqual(
            self.errors(StartExecutionConfig(ARN, name="𝄞" * 81)),
            [FieldError("name", "must be at most 80 characters (Unicode scalar values), got 81")],
        )
        self.assertEqual(
            self.errors(StartExecutionConfig(ARN, name="日本 x")),
            [FieldError("name", "must not contain white space: found U+0020 at byte 6")],
        )

    def test_arn_rules_name_the_part_at_fault(self):
        cases = [
            (
                f"{ARN}/mapLabel",
                "'HelloWorld/mapLabel' is a Distributed Map run label, which StartExecution "
                "does not accept: use the state machine's own ARN",
            ),
            (
                "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run",
                "resource type must be 'stateMachine', got 'execution'",
            ),
            (
                "arn:aws-cn:states:us-east-1:123456789012:stateMachine:m",
                "region 'us-east-1' belongs to partition aws, not to the ARN's partition aws-cn",
            ),
        ]
        for arn, message in cases:
            with self.subTest(arn=arn):
                self.assertEqual(
                    self.errors(StartExecutionConfig(arn)), [FieldError("state_machine_arn", message)]
                )

    def test_an_input_far_past_the_limit_gets_the_components_field_error(self):
        # Larger than the component's memory limit: the host makes room for the arguments.
        size = 100_000_000
        big = '"' + "x" * (size - 2) + '"'
        self.assertEqual(
            self.errors(StartExecutionConfig(ARN, input=big)),
            [FieldError("input", f"must be at most 262144 bytes as UTF-8, got {size}")],
        )

    def test_a_huge_region_gets_its_rule_without_being_quoted_or_a_trap(self):
        errors = self.errors(StartExecutionConfig(ARN, region="x" * 50_000_000))
        self.assertEqual(errors, [FieldError("region", "must be at most 64 characters, got 50000000")])

    def test_wrong_types_and_ranges_are_refused_naming_the_argument(self):
        cases = [
            (lambda: StartExecutionConfig(5), TypeError,
             "StartExecutionConfig.state_machine_arn must be str, got int"),
            (lambda: StartExecutionConfig(ARN, input=b"{}"), TypeError,
             "StartExecutionConfig.input must be str or None, got bytes"),
            (lambda: ClientOptions(max_attempts=2**32), ValueError,
             "ClientOptions.max_attempts must be from 0 to 4294967295, got 4294967296"),
            (lambda: ClientOptions(timeout_ms=-1), ValueError,
             "ClientOptions.timeout_ms must be from 0 to 18446744073709551615, got -1"),
            (lambda: ClientOptions(max_attempts=True), TypeError,
             "ClientOptions.max_attempts must be an int, got bool"),
            (lambda: ClientOptions(use_fips=1), TypeError, "ClientOptions.use_fips must be bool, got int"),
            (lambda: ClientOptions(credentials=("a", "b")), TypeError,
             "ClientOptions.credentials must be Credentials or None, got tuple"),
            (lambda: PLUGIN.validate({"state_machine_arn": ARN}), TypeError,
             "config must be a StartExecutionConfig, got dict"),
            (lambda: PLUGIN.start(StartExecutionConfig(ARN), {}), TypeError,
             "options must be a ClientOptions, got dict"),
            (lambda: PLUGIN.wait("arn", max_wait_ms=-5), ValueError,
             "max_wait_ms must be from 0 to 18446744073709551615, got -5"),
            (lambda: PLUGIN.describe(None), TypeError, "execution_arn must be a str, got NoneType"),
            (lambda: PLUGIN.validate(StartExecutionConfig(ARN, name="a\ud800")), ValueError,
             "config.name is not valid Unicode: surrogates not allowed at index 1"),
            (lambda: PLUGIN.prepare(StartExecutionConfig(ARN), ClientOptions(Credentials("a", "s\udc80"))),
             ValueError,
             "options.credentials.secret_access_key is not valid Unicode: surrogates not allowed at index 1"),
            (lambda: sfn_action.Plugin(WASM, env={"A=B": "c"}), ValueError,
             "env: 'A=B' is not a valid variable (name, or NUL in its value)"),
            (lambda: sfn_action.Plugin(WASM, env={"AWS_SECRET_ACCESS_KEY": "ab\udc80"}), ValueError,
             "env['AWS_SECRET_ACCESS_KEY'] is not valid Unicode: surrogates not allowed at index 2"),
        ]
        for call, kind, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(kind) as caught:
                    call()
                self.assertEqual(str(caught.exception), message)


# --- prepare ---------------------------------------------------------------------------


def amz_date_ms(d):
    from datetime import datetime, timezone

    return datetime.strptime(d, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp() * 1000


class Prepare(unittest.TestCase):
    def test_signs_a_request_for_moto_exact_method_url_headers_and_body(self):
        name = unique("prepared")
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
        before = time.time() * 1000
        request = PLUGIN.prepare(
            machine(name=name, input='{"greeting":"héllo wörld ✓ 日本"}', trace_header=trace), options()
        )
        after = time.time() * 1000
        body = (
            f'{{"stateMachineArn":"{moto.info["stateMachineArn"]}",'
            '"input":"{\\"greeting\\":\\"héllo wörld ✓ 日本\\"}",'
            f'"name":"{name}","traceHeader":"{trace}"}}'
        )
        self.assertEqual(request.body, body)
        self.assertEqual(request.method, "POST")
        self.assertEqual(request.url, moto.info["endpoint"] + "/")
        self.assertEqual(
            [k for k, _ in request.headers],
            ["content-type", "host", "x-amz-target", "x-amz-date", "authorization", "content-length"],
        )
        headers = dict(request.headers)
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.0")
        self.assertEqual(headers["host"], moto.info["endpoint"].removeprefix("http://"))
        self.assertEqual(headers["x-amz-target"], "AWSStepFunctions.StartExecution")
        date = headers["x-amz-date"]
        # Signed with the host's wall clock: now, to the second.
        self.assertTrue(before // 1000 * 1000 <= amz_date_ms(date) <= after, date)
        self.assertRegex(
            headers["authorization"],
            f"^AWS4-HMAC-SHA256 Credential={moto.info['accessKeyId']}/{date[:8]}/us-east-1/states/"
            "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=[0-9a-f]{64}$",
        )
        # UTF-8 bytes, not code points: the input's non-ASCII text makes them differ.
        self.assertEqual(headers["content-length"], str(len(body.encode())))
        self.assertNotEqual(len(body.encode()), len(body))

    def test_session_credentials_add_a_signed_token_that_repr_does_not_show(self):
        creds = session()
        request = PLUGIN.prepare(machine(), options(creds))
        self.assertEqual(
            [k for k, _ in request.headers],
            ["content-type", "host", "x-amz-target", "x-amz-date", "authorization",
             "x-amz-security-token", "content-length"],
        )
        headers = dict(request.headers)
        self.assertEqual(headers["x-amz-security-token"], creds.session_token)
        self.assertIn("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,",
                      headers["authorization"])
        for shown in (repr(request), repr(creds), repr(options(creds))):
            self.assertNotIn(creds.session_token, shown)
            self.assertNotIn(creds.secret_access_key, shown)
        self.assertIn("('x-amz-security-token', '<redacted>')", repr(request))

    def test_the_prepared_request_sent_by_urllib_starts_an_execution_in_moto(self):
        name = unique("urllib")
        input = '{"via":"urllib ✓"}'
        request = PLUGIN.prepare(machine(name=name, input=input), options())
        # urllib sets its own Host and Content-Length: the signed ones go as they are.
        sent = urllib.request.Request(
            request.url, data=request.body.encode(), headers=dict(request.headers), method=request.method
        )
        with urllib.request.urlopen(sent, timeout=30) as response:
            self.assertEqual(response.status, 200)
            execution_arn = json.loads(response.read())["executionArn"]
        found = moto.describe(execution_arn)
        self.assertEqual((found["name"], found["input"]), (name, input))

    def test_client_option_errors_join_the_argument_errors_nothing_is_signed(self):
        with self.assertRaises(sfn_action.InvalidConfig) as caught:
            PLUGIN.prepare(
                StartExecutionConfig(f"{ARN}:", input="{"),
                ClientOptions(user(), endpoint_url="ftp://example", use_fips=True),
            )
        self.assertEqual(
            caught.exception.field_errors,
            [
                FieldError("state_machine_arn", "version or alias after the state machine name must not be empty"),
                FieldError("input", "must be valid JSON: EOF while parsing an object at line 1 column 1"),
                FieldError(
                    "use_fips",
                    "FIPS and custom endpoint are not supported together: drop use_fips or the custom endpoint",
                ),
                FieldError("endpoint_url", "the custom endpoint 'ftp://example' must start with https:// or http://"),
            ],
        )
        self.assertEqual(caught.exception.attempts, 0)

    def test_no_credentials_and_an_empty_environment_missing_credentials(self):
        with self.assertRaises(sfn_action.Failure) as caught:
            PLUGIN.prepare(StartExecutionConfig(ARN))
        self.assertNotIsInstance(caught.exception, sfn_action.InvalidConfig)
        self.assertEqual(
            caught.exception.error,
            sfn_action.MissingCredentialsError(
                "pass credentials in the client options or set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)"
            ),
        )

    def test_prepare_sync_signs_for_the_sync_host_on_aws_and_the_custom_endpoint_as_given(self):
        aws = PLUGIN.prepare_sync(machine(), ClientOptions(user()))
        self.assertEqual(aws.url, "https://sync-states.us-east-1.amazonaws.com/")
        self.assertIn(("x-amz-target", "AWSStepFunctions.StartSyncExecution"), aws.headers)
        local = PLUGIN.prepare_sync(machine(), options())
        self.assertEqual(local.url, moto.info["endpoint"] + "/")


# --- start -----------------------------------------------------------------------------


class Start(unittest.TestCase):
    def failure(self, call):
        with self.assertRaises(sfn_action.Failure) as caught:
            call()
        return caught.exception

    def test_a_plain_start_is_running_in_moto(self):
        before = time.time() * 1000
        execution = PLUGIN.start(machine(), options())
        after = time.time() * 1000
        self.assertEqual(execution.attempts, 1)
        # moto's clock is this machine's; a second of slack covers its rounding.
        self.assertTrue(before - 1000 <= execution.start_date_epoch_ms <= after + 1000)
        self.assertIsInstance(execution.request_id, str)
        self.assertNotEqual(execution.request_id, "")

        found = moto.describe(execution.execution_arn)
        self.assertEqual(found["status"], "RUNNING")
        self.assertEqual(found["stateMachineArn"], moto.info["stateMachineArn"])
        self.assertEqual(found["input"], "{}")  # no input means {}
        # Unnamed: named with a random UUID (version 4) before sending, so a retry carries it.
        self.assertRegex(found["name"], UUID4)
        self.assertEqual(execution.execution_arn, execution_arn_of(found["name"]))
        self.assertEqual(python_date_ms(found["startDate"]), execution.start_date_epoch_ms)

    def test_name_and_input_arrive_byte_for_byte(self):
        for input in (
            '{"greeting":"héllo wörld ✓ 日本"}',
            '{ "greeting" : "héllo wörld ✓ 日本 🚀",\n  "n": 1.50, "esc": "\\u00e9\\"" }',
        ):
            with self.subTest(input=input):
                name = unique("bytes-ü")
                execution = PLUGIN.start(machine(name=name, input=input), options())
                self.assertEqual(execution.execution_arn, execution_arn_of(name))
                found = moto.describe(execution.execution_arn)
                self.assertEqual((found["name"], found["input"]), (name, input))

    def test_the_same_name_and_input_twice_is_the_same_execution(self):
        config = machine(name=unique("twice"), input='{"n":1}')
        first = PLUGIN.start(config, options())
        second = PLUGIN.start(config, options())
        self.assertEqual(
            (second.execution_arn, second.start_date_epoch_ms),
            (first.execution_arn, first.start_date_epoch_ms),
        )

    def test_the_same_name_with_other_input_execution_already_exists(self):
        name = unique("exists")
        first = PLUGIN.start(machine(name=name, input='{"n":1}'), options())
        failure = self.failure(lambda: PLUGIN.start(machine(name=name, input='{"n":2}'), options()))
        self.assertNotIsInstance(failure, sfn_action.InvalidConfig)
        self.assertEqual(failure.attempts, 1)
        self.assertIsNone(failure.maybe_started)
        self.assertIsInstance(failure.error.request_id, str)
        self.assertEqual(
            failure.error,
            ServiceError(
                400,
                "ExecutionAlreadyExists",
                f"Execution Already Exists: '{first.execution_arn}'",
                failure.error.request_id,
            ),
        )
        self.assertEqual(
            str(failure),
            f"ExecutionAlreadyExists: Execution Already Exists: '{first.execution_arn}' "
            "(HTTP 400) (after 1 attempt)",
        )

    def test_temporary_credentials_from_assume_role_start_an_execution(self):
        name = unique("session")
        execution = PLUGIN.start(machine(name=name), options(session()))
        self.assertEqual(moto.describe(execution.execution_arn)["name"], name)

    def test_a_wrong_secret_signature_does_not_match_and_no_secret_shows(self):
        token = session().session_token
        wrong = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY"
        creds = Credentials(session().access_key_id, wrong, token)
        failure = self.failure(lambda: PLUGIN.start(machine(name=unique("wrong")), options(creds)))
        self.assertIsInstance(failure.error, ServiceError)
        # moto answers this one in XML; code and message still come through.
        self.assertEqual((failure.error.status, failure.error.code), (403, "SignatureDoesNotMatch"))
        self.assertTrue(
            failure.error.message.startswith("The request signature we calculated does not match"),
            failure.error.message,
        )
        import traceback

        shown = [str(failure), repr(failure), repr(failure.error), str(failure.error),
                 "".join(traceback.format_exception(failure))]
        for text in shown:
            self.assertNotIn(wrong, text)
            self.assertNotIn(token, text)

    def test_an_unknown_state_machine_state_machine_does_not_exist(self):
        unknown = moto.info["stateMachineArn"].replace(":HelloWorld", ":NoSuchMachine")
        failure = self.failure(lambda: PLUGIN.start(StartExecutionConfig(unknown), options()))
        self.assertEqual(
            (failure.error.status, failure.error.code, failure.error.message),
            (400, "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{unknown}'"),
        )

    def test_nothing_listening_a_transport_error_naming_the_endpoint_after_every_attempt(self):
        with StandIn() as closed:
            endpoint = closed.url
        failure = self.failure(lambda: PLUGIN.start(machine(), options(endpoint_url=endpoint, max_attempts=2)))
        self.assertEqual(failure.error, sfn_action.TransportError(f"request to {endpoint}/ failed: connection refused"))
        self.assertEqual(failure.attempts, 2)
        # Refused connections sent nothing: no execution can have started.
        self.assertIsNone(failure.maybe_started)

    def test_a_server_error_names_the_execution_that_may_have_started(self):
        # A 500 may come after the service acted: the call names what it may have started.
        name = unique("five-hundred")
        with StandIn(status=500, headers=[("x-amzn-RequestId", "req-500")]) as server:
            failure = self.failure(
                lambda: PLUGIN.start(machine(name=name), options(endpoint_url=server.url, max_attempts=2))
            )
            self.assertEqual([target for target, _ in server.requests],
                             ["AWSStepFunctions.StartExecution"] * 2)
        self.assertEqual(failure.error, ServiceError(500, "InternalServerError", "empty response body", "req-500"))
        self.assertEqual(failure.attempts, 2)
        self.assertEqual(failure.maybe_started, execution_arn_of(name))
        self.assertTrue(str(failure).endswith(f"; the execution may have started: {execution_arn_of(name)}"))

    def test_the_timeout_ends_a_call_to_a_server_that_never_answers(self):
        name = unique("silent")
        with StandIn(answer=False) as silent:
            started = time.monotonic()
            failure = self.failure(
                lambda: PLUGIN.start(machine(name=name), options(endpoint_url=silent.url, timeout_ms=500))
            )
            waited = time.monotonic() - started
            endpoint = silent.url
        self.assertEqual(
            failure.error,
            sfn_action.TransportError(
                f"request to {endpoint}/ failed: waiting for the response: the call's timeout of 500ms passed"
            ),
        )
        self.assertEqual((failure.attempts, failure.maybe_started), (1, execution_arn_of(name)))
        self.assertTrue(0.5 <= waited < 15, waited)

    def test_an_over_large_input_is_refused_by_the_component_before_any_request(self):
        big = '"' + "é" * 150_000 + '"'
        with StandIn() as server:
            with self.assertRaises(sfn_action.InvalidConfig) as caught:
                PLUGIN.start(machine(input=big), options(endpoint_url=server.url))
            self.assertEqual(server.requests, [])
        self.assertEqual(
            caught.exception.field_errors,
            [FieldError("input", "must be at most 262144 bytes as UTF-8, got 300002")],
        )

    def test_credentials_and_endpoint_from_the_environment_given(self):
        info = moto.info
        from_env = sfn_action.Plugin(
            WASM,
            env={
                "AWS_ACCESS_KEY_ID": info["accessKeyId"],
                "AWS_SECRET_ACCESS_KEY": info["secretAccessKey"],
                "AWS_ENDPOINT_URL_SFN": info["endpoint"],
            },
        )
        name = unique("env")
        execution = from_env.start(machine(name=name))
        self.assertEqual(moto.describe(execution.execution_arn)["name"], name)

    def test_by_default_the_aws_variables_of_the_process_and_an_explicit_env_is_all(self):
        info = moto.info
        variables = {
            "AWS_ACCESS_KEY_ID": info["accessKeyId"],
            "AWS_SECRET_ACCESS_KEY": info["secretAccessKey"],
            "AWS_ENDPOINT_URL_SFN": info["endpoint"],
        }
        with mock.patch.dict(os.environ, variables):
            default = sfn_action.Plugin(WASM)
            explicit = sfn_action.Plugin(WASM, env={"HOME": "/nowhere"})
        name = unique("default-env")
        execution = default.start(machine(name=name))
        self.assertEqual(moto.describe(execution.execution_arn)["name"], name)
        with self.assertRaises(sfn_action.Failure) as caught:
            explicit.start(machine())
        self.assertIsInstance(caught.exception.error, sfn_action.MissingCredentialsError)


# --- start_sync (moto runs express machines as standard ones: a stand-in answers) ------


class StartSync(unittest.TestCase):
    EXPRESS = "arn:aws:states:us-east-1:123456789012:express:HelloWorld:run-1:5e0f"

    def test_an_express_execution_ends_with_its_outcome_and_billing(self):
        answer = {
            "executionArn": self.EXPRESS,
            "stateMachineArn": ARN,
            "name": "run-1",
            "startDate": 1440938160.0,
            "stopDate": 1440938160.5,
            "status": "SUCCEEDED",
            "input": "{}",
            "output": '{"a": "ü"}',
            "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 500},
        }
        with StandIn(body=json.dumps(answer), headers=[("x-amzn-RequestId", "req-sync")]) as server:
            outcome = PLUGIN.start_sync(StartExecutionConfig(ARN, name="run-1"), options(endpoint_url=server.url))
            self.assertEqual([target for target, _ in server.requests], ["AWSStepFunctions.StartSyncExecution"])
        self.assertEqual(
            outcome,
            sfn_action.Outcome(
                execution_arn=self.EXPRESS,
                status="SUCCEEDED",
                start_date_epoch_ms=1440938160000,
                stop_date_epoch_ms=1440938160500,
                output='{"a": "ü"}',
                error=None,
                cause=None,
                billing=sfn_action.BillingDetails(billed_memory_used_mb=64, billed_duration_ms=500),
                request_id="req-sync",
                attempts=1,
            ),
        )

    def test_an_answer_that_is_no_result_is_an_invalid_response(self):
        with StandIn(body="<html>hello</html>") as server:
            with self.assertRaises(sfn_action.Failure) as caught:
                PLUGIN.start_sync(StartExecutionConfig(ARN), options(endpoint_url=server.url))
        failure = caught.exception
        self.assertIsInstance(failure.error, sfn_action.InvalidResponseError)
        self.assertTrue(
            failure.error.message.startswith("HTTP 200 body is not a StartSyncExecution result ("),
            failure.error.message,
        )
        self.assertTrue(str(failure).startswith("invalid response: HTTP 200 body is not"), str(failure))
        self.assertEqual((failure.attempts, failure.maybe_started), (1, None))


# --- wait and describe -----------------------------------------------------------------


class Wait(unittest.TestCase):
    def start(self, machine_name, input=None):
        config = StartExecutionConfig(running.info["machines"][machine_name], input=input)
        return PLUGIN.start(config, running_options())

    def test_waits_for_a_pass_execution_and_returns_its_output_byte_for_byte(self):
        started = self.start("Pass", '{"x": "ü"}')
        outcome = PLUGIN.wait(started.execution_arn, running_options(), max_wait_ms=60_000)
        self.assertEqual((outcome.status, outcome.execution_arn), ("SUCCEEDED", started.execution_arn))
        self.assertGreaterEqual(outcome.stop_date_epoch_ms, outcome.start_date_epoch_ms)
        found = running.describe(started.execution_arn)
        self.assertEqual(outcome.output, found["output"])
        self.assertEqual(
            json.loads(outcome.output),
            {"x": "ü", "result": {"greeting": "héllo 🚀", "n": [1, 2.5, None]}},
        )
        self.assertEqual((outcome.error, outcome.cause, outcome.billing), (None, None, None))
        described = PLUGIN.describe(started.execution_arn, running_options())
        self.assertEqual((described.status, described.output, described.attempts),
                         ("SUCCEEDED", found["output"], 1))

    def test_a_fail_state_ends_failed_with_its_error_and_cause(self):
        started = self.start("Fail")
        outcome = PLUGIN.wait(started.execution_arn, running_options(), max_wait_ms=60_000)
        self.assertEqual(
            (outcome.status, outcome.error, outcome.cause, outcome.output),
            ("FAILED", "Custom.Broken", 'it went "wrong"', None),
        )
        found = running.describe(started.execution_arn)
        self.assertEqual((found["status"], found["error"], found["cause"]),
                         ("FAILED", "Custom.Broken", 'it went "wrong"'))

    def test_a_wait_shorter_than_the_wait_state_returns_it_running(self):
        started = self.start("Wait")
        before = time.monotonic()
        outcome = PLUGIN.wait(started.execution_arn, running_options(), max_wait_ms=500)
        waited = time.monotonic() - before
        self.assertEqual((outcome.status, outcome.stop_date_epoch_ms), ("RUNNING", None))
        # Not before its 500 ms; the upper bound only catches a wait that hangs.
        self.assertTrue(0.5 <= waited < 30, waited)

    def test_an_express_execution_is_refused_before_any_request_naming_start_sync(self):
        express = "arn:aws:states:us-east-1:123456789012:express:M:run-1:5e0f"
        expected = [
            FieldError(
                "execution_arn",
                "is an EXPRESS execution's: Step Functions does not record express executions, so "
                "they cannot be described or waited for; run the state machine with "
                "StartSyncExecution (--sync) to get its outcome",
            )
        ]
        with StandIn() as server:
            for call in (
                lambda: PLUGIN.wait(express, options(endpoint_url=server.url), max_wait_ms=1000),
                lambda: PLUGIN.describe(express, options(endpoint_url=server.url)),
            ):
                with self.assertRaises(sfn_action.InvalidConfig) as caught:
                    call()
                self.assertEqual(caught.exception.field_errors, expected)
                self.assertEqual((caught.exception.attempts, caught.exception.maybe_started), (0, None))
            self.assertEqual(server.requests, [])


# --- loading and the compiled-code cache -----------------------------------------------

# Loads the component in a fresh process, as a program would, and says how it went.
FRESH_PROCESS = """
import json, sys, warnings
import sfn_action
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    plugin = sfn_action.Plugin(sys.argv[1], cache_dir=sys.argv[2], env={})
plugin.validate(sfn_action.StartExecutionConfig(
    "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld"))
print(json.dumps({
    "loaded_from": plugin.loaded_from,
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
}))
"""


def load_in_fresh_process(cache_dir):
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(WASM), str(cache_dir)],
        env=dict(os.environ, PYTHONPATH=str(BINDINGS)),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


class Cache(unittest.TestCase):
    def setUp(self):
        self.home = Path(tempfile.mkdtemp(prefix="sfn-python-cache-"))
        self.addCleanup(shutil.rmtree, self.home)
        self.folder = self.home / "a" / "b"

    def entry(self):
        entries = list(self.folder.iterdir())
        self.assertEqual(len(entries), 1, entries)  # no temporary file left behind
        self.assertRegex(entries[0].name, r"^[0-9a-f]{64}\.cwasm$")
        return entries[0]

    def test_a_second_process_loads_the_entry_the_first_wrote(self):
        first = load_in_fresh_process(self.folder)
        self.assertEqual(first, {"loaded_from": "compile", "warnings": []})
        entry = self.entry()
        self.assertEqual((mode(self.home / "a"), mode(self.folder), mode(entry)), (0o700, 0o700, 0o600))
        written = os.lstat(entry).st_mtime_ns

        second = load_in_fresh_process(self.folder)
        self.assertEqual(second, {"loaded_from": "cache", "warnings": []})
        self.assertEqual(os.lstat(self.entry()).st_mtime_ns, written)

    def test_in_one_process_the_component_is_compiled_once(self):
        plugin = sfn_action.Plugin(WASM, cache_dir=self.folder, env={})
        # This process compiled it already (setUpModule): the cache is not even looked at.
        self.assertEqual(plugin.loaded_from, "process")
        self.assertFalse(self.folder.exists())

    def test_a_folder_others_may_write_is_not_trusted(self):
        load_in_fresh_process(self.folder)
        entry = self.entry()
        written = os.lstat(entry).st_mtime_ns
        os.chmod(self.folder, 0o770)
        loaded = load_in_fresh_process(self.folder)
        self.assertEqual(
            loaded,
            {
                "loaded_from": "compile",
                "warnings": [[
                    "CacheWarning",
                    f"sfn_action: not trusting {self.folder}: its group or others may write it "
                    "(mode 770); the component is compiled instead",
                ]],
            },
        )
        self.assertEqual(os.lstat(entry).st_mtime_ns, written)
        # Nor is anything written there.
        entry.unlink()
        self.assertEqual(
            load_in_fresh_process(self.folder)["warnings"],
            [[
                "CacheWarning",
                f"sfn_action: could not keep the compiled component in {self.folder}: its group "
                "or others may write it (mode 770); the component is compiled instead",
            ]],
        )
        self.assertEqual(list(self.folder.iterdir()), [])

    def test_a_symlinked_entry_is_not_trusted_and_is_replaced(self):
        load_in_fresh_process(self.folder)
        entry = self.entry()
        elsewhere = self.home / "elsewhere.cwasm"
        shutil.move(entry, elsewhere)
        entry.symlink_to(elsewhere)
        loaded = load_in_fresh_process(self.folder)
        self.assertEqual(
            loaded,
            {
                "loaded_from": "compile",
                "warnings": [[
                    "CacheWarning",
                    f"sfn_action: not trusting {entry}: it is a symbolic link; the component is "
                    "compiled instead",
                ]],
            },
        )
        # The link itself was replaced by a fresh entry; what it pointed at is untouched.
        self.assertTrue(stat.S_ISREG(os.lstat(entry).st_mode))
        self.assertEqual(elsewhere.read_bytes(), entry.read_bytes())
        self.assertEqual(load_in_fresh_process(self.folder)["loaded_from"], "cache")

    def test_an_entry_of_another_engine_is_recompiled_and_replaced(self):
        load_in_fresh_process(self.folder)
        entry = self.entry()
        entry.write_bytes(b"\x7fELF not wasmtime's")
        loaded = load_in_fresh_process(self.folder)
        self.assertEqual(loaded["loaded_from"], "compile")
        [[category, message]] = loaded["warnings"]
        self.assertEqual(category, "CacheWarning")
        self.assertTrue(message.startswith(f"sfn_action: recompiling {entry}: "), message)
        self.assertEqual(load_in_fresh_process(self.folder), {"loaded_from": "cache", "warnings": []})

    def test_a_folder_that_cannot_be_made_still_works_and_says_so_once(self):
        blocker = self.home / "a-file"
        blocker.write_bytes(b"")
        folder = blocker / "cache"
        loaded = load_in_fresh_process(folder)
        self.assertEqual(
            loaded,
            {
                "loaded_from": "compile",
                "warnings": [[
                    "CacheWarning",
                    f"sfn_action: could not keep the compiled component in {folder}: [Errno 20] "
                    f"Not a directory: '{folder}'; the component is compiled instead",
                ]],
            },
        )

    def test_only_the_users_own_files_and_folders_are_trusted(self):
        def stat_of(kind, mode, uid):
            return os.stat_result((kind | mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))

        me = os.geteuid()
        entry = Path("/cache/k.cwasm")
        sfn_action._trust(entry, stat_of(stat.S_IFREG, 0o600, me), stat.S_ISREG)
        cases = [
            (stat_of(stat.S_IFREG, 0o600, me + 1), stat.S_ISREG, f"it is owned by user {me + 1}, not {me}"),
            (stat_of(stat.S_IFREG, 0o620, me), stat.S_ISREG, "its group or others may write it (mode 620)"),
            (stat_of(stat.S_IFREG, 0o602, me), stat.S_ISREG, "its group or others may write it (mode 602)"),
            (stat_of(stat.S_IFLNK, 0o777, me), stat.S_ISREG, "it is a symbolic link"),
            (stat_of(stat.S_IFIFO, 0o600, me), stat.S_ISREG, "it is not a regular file"),
            (stat_of(stat.S_IFREG, 0o700, me), stat.S_ISDIR, "it is not a folder"),
        ]
        for st, kind, why in cases:
            with self.subTest(why=why):
                with self.assertRaises(sfn_action._Untrusted) as caught:
                    sfn_action._trust(entry, st, kind)
                self.assertEqual(caught.exception.why, why)

    def test_the_default_folder(self):
        with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}):
            self.assertEqual(sfn_action.default_cache_dir(), Path("/xdg/sfn-start/python"))
        with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": "", "HOME": "/home/u"}):
            self.assertEqual(sfn_action.default_cache_dir(), Path("/home/u/.cache/sfn-start/python"))
        with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": "", "HOME": ""}):
            self.assertIsNone(sfn_action.default_cache_dir())


class Loading(unittest.TestCase):
    def test_a_missing_file_or_a_non_component_is_a_plugin_error(self):
        with tempfile.TemporaryDirectory() as home:
            missing = Path(home) / "missing.wasm"
            with self.assertRaises(sfn_action.PluginError) as caught:
                sfn_action.Plugin(missing)
            self.assertEqual(str(caught.exception), f"reading component {missing}: No such file or directory")
            text = Path(home) / "text.wasm"
            text.write_text("not wasm")
            with self.assertRaises(sfn_action.PluginError) as caught:
                sfn_action.Plugin(text)
            self.assertTrue(str(caught.exception).startswith(f"compiling {text}: "), str(caught.exception))



class Readme(unittest.TestCase):
    def test_its_python_snippet_as_it_stands_starts_an_execution_in_moto(self):
        readme = (WORKSPACE / "README.md").read_text()
        snippets = re.findall(r"^```python\n(.*?)^```$", readme, re.M | re.S)
        self.assertEqual(len(snippets), 1, "one Python snippet in README.md")
        with tempfile.TemporaryDirectory() as folder:
            # Laid out as the snippet says: the component beside it, the module importable.
            os.symlink(WASM, Path(folder) / "sfn_start_execution.wasm")
            env = {
                "PATH": os.environ.get("PATH", ""),
                "PYTHONPATH": str(BINDINGS),
                "XDG_CACHE_HOME": str(Path(folder) / "cache"),
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ACCESS_KEY_ID": moto.info["accessKeyId"],
                "AWS_SECRET_ACCESS_KEY": moto.info["secretAccessKey"],
                "AWS_ENDPOINT_URL_SFN": moto.info["endpoint"],
            }
            done = subprocess.run(
                [sys.executable, "-c", snippets[0]], cwd=folder, env=env,
                capture_output=True, text=True, timeout=120,
            )
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        execution_arn = done.stdout.strip()
        self.assertRegex(execution_arn, r"^arn:aws:states:us-east-1:123456789012:execution:HelloWorld:")
        self.assertEqual(moto.describe(execution_arn)["stateMachineArn"], moto.info["stateMachineArn"])


if __name__ == "__main__":
    unittest.main()
