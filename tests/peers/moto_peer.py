"""Runs moto's Step Functions emulator for one test process, and answers its questions.

Starts `moto_server` on a free port of 127.0.0.1, sets up an IAM user with an access key, a
role that user may assume, and a state machine, all through moto's own AWS APIs. Set-up
calls are the only unauthenticated ones: INITIAL_NO_AUTH_ACTION_COUNT equals their number,
so from then on moto verifies the SigV4 signature and IAM policy of every request.

Prints one JSON line describing the peer, then reads JSON commands, one a line, from
standard input and answers each with one JSON line:

    {"op": "describe", "executionArn": "..."}  -> {"ok": {DescribeExecution}} | {"error": {...}}
    {"op": "names", "stateMachineArn": "..."}  -> {"ok": [every execution name of the state machine]}

With the argument `running` after the log path, moto runs the state machines it starts
(`execute_state_machine`, set through `/moto-api/config` before anything else) and the set-up
also creates the machines of RUNNING, named in the peer's "machines": Pass, Fail, Wait and
Choice. (moto runs an EXPRESS machine as a STANDARD one, with an `:execution:` ARN that
DescribeExecution answers, so there is none: the stand-in models express executions.) moto keeps running machines apart from the others (another
backend), so a peer is one kind or the other.

When standard input closes (the test process ended, passed or failed, or was killed) it stops
the server and exits; the server also dies with this process (PR_SET_PDEATHSIG).
"""

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import botocore.config
import botocore.exceptions

REGION = "us-east-1"
PERMISSIVE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)
TRUST_ANYONE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        ],
    }
)
DEFINITION = json.dumps(
    {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
)
STATE_MACHINE = "HelloWorld"


def state(**fields):
    return fields


# The state machines a running peer has: name -> (type, definition).
RUNNING = {
    "Pass": (
        "STANDARD",
        {
            "StartAt": "P",
            "States": {
                "P": state(
                    Type="Pass",
                    Result={"greeting": "h\u00e9llo \U0001f680", "n": [1, 2.5, None]},
                    ResultPath="$.result",
                    End=True,
                )
            },
        },
    ),
    "Fail": (
        "STANDARD",
        {
            "StartAt": "F",
            "States": {
                "F": state(Type="Fail", Error="Custom.Broken", Cause="it went \"wrong\"")
            },
        },
    ),
    "Wait": (
        "STANDARD",
        {
            "StartAt": "W",
            "States": {
                "W": state(Type="Wait", Seconds=2, Next="D"),
                "D": state(Type="Pass", End=True),
            },
        },
    ),
    "Choice": (
        "STANDARD",
        {
            "StartAt": "C",
            "States": {
                "C": state(
                    Type="Choice",
                    Choices=[{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}],
                    Default="Small",
                ),
                "Big": state(Type="Pass", Result={"size": "big"}, End=True),
                "Small": state(Type="Fail", Error="Too.Small", Cause="n is at most 1"),
            },
        },
    ),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """In the child: receive SIGTERM when this supervisor dies, however it dies."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_server(setup_calls, log):
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(setup_calls))
    moto_server = os.path.join(os.path.dirname(sys.executable), "moto_server")
    server = subprocess.Popen(
        [moto_server, "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        preexec_fn=die_with_parent,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"moto_server exited with status {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("moto_server did not open its port within 60 s")


def client(service, endpoint, key_id="setup", secret="setup", token=None):
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


# The unauthenticated set-up, in order. Each step is exactly one moto action, so that
# authentication starts right after the last.
def setup_steps(endpoint, out, running=False):
    iam = client("iam", endpoint)
    sfn = client("stepfunctions", endpoint)

    def user():
        iam.create_user(UserName="sfn-tests")

    def user_policy():
        iam.put_user_policy(
            UserName="sfn-tests", PolicyName="all", PolicyDocument=PERMISSIVE
        )

    def access_key():
        key = iam.create_access_key(UserName="sfn-tests")["AccessKey"]
        out["accessKeyId"] = key["AccessKeyId"]
        out["secretAccessKey"] = key["SecretAccessKey"]

    def role():
        arn = iam.create_role(
            RoleName="sfn-tests", AssumeRolePolicyDocument=TRUST_ANYONE
        )["Role"]["Arn"]
        out["roleArn"] = arn

    def role_policy():
        iam.put_role_policy(
            RoleName="sfn-tests", PolicyName="all", PolicyDocument=PERMISSIVE
        )

    def state_machine():
        out["stateMachineArn"] = sfn.create_state_machine(
            name=STATE_MACHINE, definition=DEFINITION, roleArn=out["roleArn"]
        )["stateMachineArn"]

    def machine(name, kind, definition):
        def create():
            arn = sfn.create_state_machine(
                name=name,
                definition=json.dumps(definition),
                roleArn=out["roleArn"],
                type=kind,
            )["stateMachineArn"]
            out.setdefault("machines", {})[name] = arn

        return create

    steps = [user, user_policy, access_key, role, role_policy, state_machine]
    if running:
        steps += [machine(name, *spec) for name, spec in RUNNING.items()]
    return steps


def execute_state_machines(endpoint):
    """Tells moto to run the state machines it starts (moto-api, not an AWS action)."""
    request = urllib.request.Request(
        endpoint + "/moto-api/config",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=30).read()


def authenticated_setup(endpoint, peer):
    """Signed calls: proves authentication is on, and gets temporary credentials."""
    sts = client("sts", endpoint, peer["accessKeyId"], peer["secretAccessKey"])
    creds = sts.assume_role(RoleArn=peer["roleArn"], RoleSessionName="sfn-tests")[
        "Credentials"
    ]
    peer["session"] = {
        "accessKeyId": creds["AccessKeyId"],
        "secretAccessKey": creds["SecretAccessKey"],
        "sessionToken": creds["SessionToken"],
    }
    wrong = client("stepfunctions", endpoint, peer["accessKeyId"], "wrong-secret")
    try:
        wrong.list_state_machines()
    except botocore.exceptions.ClientError:
        return
    sys.exit("moto accepted a wrong secret: authentication is not on")


def answer(sfn, command):
    op = command.get("op")
    try:
        if op == "describe":
            found = sfn.describe_execution(executionArn=command["executionArn"])
            found.pop("ResponseMetadata", None)
            return {"ok": found}
        if op == "names":
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=command["stateMachineArn"]
            )
            return {"ok": [e["name"] for page in pages for e in page["executions"]]}
    except botocore.exceptions.ClientError as e:
        return {"error": e.response["Error"]}
    return {"error": {"Code": "UnknownOp", "Message": repr(op)}}


def main():
    log_path = sys.argv[1] if len(sys.argv) > 1 else os.devnull
    with open(log_path, "ab") as log:
        running = sys.argv[2:3] == ["running"]
        peer = {"region": REGION}
        placeholder = "http://127.0.0.1:1"
        steps_count = len(setup_steps(placeholder, {}, running))
        server, endpoint = start_server(steps_count, log)
        try:
            peer["endpoint"] = endpoint
            if running:
                execute_state_machines(endpoint)
            for step in setup_steps(endpoint, peer, running):
                step()
            authenticated_setup(endpoint, peer)
            print(json.dumps(peer), flush=True)
            sfn = client(
                "stepfunctions", endpoint, peer["accessKeyId"], peer["secretAccessKey"]
            )
            for line in sys.stdin:
                if line.strip():
                    reply = answer(sfn, json.loads(line))
                    print(json.dumps(reply, default=str), flush=True)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
