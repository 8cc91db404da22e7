"""Times the Python host (bindings/python/sfn_action.py) next to boto3, on this machine.

    SFN_PLUGIN_WASM=target/guest/wasm32-wasip2/guest/sfn_start_execution.wasm \\
      target/peers/venv/bin/python tests/bench/python_host.py [--runs 200]

(a) Loading the component: compiled, and from a filled cache, in this process (`Plugin`,
    which also instantiates it once) and in a fresh process (interpreter start and imports
    included: what a script pays; a fresh process that only imports sfn_action shows that
    part).
(b) One `start` to a loopback stand-in (tests/python/standin.py, answering every request
    with the same StartExecution reply), next to boto3's `start_execution` to the same
    server with a client made once; and `validate`, a call without I/O.

Each side runs alternately, round by round, so that a noisy moment on a shared machine
lands on both; the table gives the minimum and the median. Nothing leaves 127.0.0.1: the
credentials are example keys, and AWS_EC2_METADATA_DISABLED is set.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

WORKSPACE = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(WORKSPACE / "bindings" / "python"))
sys.path.insert(0, str(WORKSPACE / "tests" / "python"))

import boto3  # noqa: E402
import botocore.config  # noqa: E402

import sfn_action  # noqa: E402
from standin import StandIn  # noqa: E402

WASM = Path(
    os.environ.get(
        "SFN_PLUGIN_WASM", WORKSPACE / "target/guest/wasm32-wasip2/guest/sfn_start_execution.wasm"
    )
)
ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:HelloWorld:bench"
REPLY = f'{{"executionArn":"{EXECUTION}","startDate":1.44093816E9}}'
KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

FRESH_LOAD = """
import sys, sfn_action
if len(sys.argv) > 1:
    sfn_action.Plugin(sys.argv[1], cache_dir=sys.argv[2] if len(sys.argv) > 2 else None, env={})
"""


def timed(call):
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def in_process_load(cache_dir=None):
    # The per-process memo would answer every load after the first: each run starts without it.
    sfn_action._COMPILED.clear()
    plugin = sfn_action.Plugin(WASM, cache_dir=cache_dir, env={})
    expected = "cache" if cache_dir else "compile"
    assert plugin.loaded_from == expected, plugin.loaded_from


def fresh_process_load(cache_dir=None, load=True):
    args = [sys.executable, "-W", "error", "-c", FRESH_LOAD]
    args += ([str(WASM)] if load else []) + ([str(cache_dir)] if cache_dir else [])
    env = dict(os.environ, PYTHONPATH=str(WORKSPACE / "bindings" / "python"))
    subprocess.run(args, env=env, check=True, timeout=120)


def rounds(sides, runs):
    """Runs each side once per round, `runs` rounds; the times of each side, in ms."""
    times = {name: [] for name in sides}
    for _ in range(runs):
        for name, call in sides.items():
            times[name].append(timed(call))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="calls of each kind (default 200)")
    parser.add_argument("--load-runs", type=int, default=10, help="loads of each kind (default 10)")
    runs = parser.parse_args()
    if not WASM.is_file():
        sys.exit(f"{WASM} is missing: run tests/run, or set SFN_PLUGIN_WASM")

    table = {}
    with tempfile.TemporaryDirectory() as home:
        cache = Path(home) / "cache"
        sfn_action.Plugin(WASM, cache_dir=cache, env={})  # fills the cache
        assert any(cache.iterdir()), "the cache stayed empty"
        print("loading…", file=sys.stderr)
        table.update(
            rounds(
                {
                    "load, compiled (in process)": in_process_load,
                    "load, from the cache (in process)": lambda: in_process_load(cache),
                },
                runs.load_runs,
            )
        )
        table.update(
            rounds(
                {
                    "load, compiled (fresh process)": fresh_process_load,
                    "load, from the cache (fresh process)": lambda: fresh_process_load(cache),
                    "of which start and imports only": lambda: fresh_process_load(load=False),
                },
                runs.load_runs,
            )
        )

    plugin = sfn_action.Plugin(WASM, env={})
    with StandIn(body=REPLY, headers=[("Content-Type", "application/x-amz-json-1.0")]) as server:
        options = sfn_action.ClientOptions(
            credentials=sfn_action.Credentials(KEY_ID, SECRET),
            endpoint_url=server.url,
            max_attempts=1,
        )
        boto = boto3.client(
            "stepfunctions",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            config=botocore.config.Config(retries={"total_max_attempts": 1}),
        )
        config = sfn_action.StartExecutionConfig(ARN, input='{"order": 42}', name="bench")

        def ours():
            assert plugin.start(config, options).execution_arn == EXECUTION

        def theirs():
            answer = boto.start_execution(stateMachineArn=ARN, input='{"order": 42}', name="bench")
            assert answer["executionArn"] == EXECUTION

        ours(), theirs()  # one untimed call each: connections, lazy imports
        print("calling…", file=sys.stderr)
        table.update(
            rounds(
                {
                    "start → loopback (sfn_action)": ours,
                    "start_execution → loopback (boto3)": theirs,
                    "validate (sfn_action, no I/O)": lambda: plugin.validate(config),
                },
                runs.runs,
            )
        )
        requests = len(server.requests)

    print(f"wasmtime-py {sfn_action.importlib.metadata.version('wasmtime')}, "
          f"boto3 {boto3.__version__}, Python {sys.version.split()[0]}, {requests} requests served")
    print(f"| {'what':<40} | runs | min ms | median ms |")
    print(f"|{'-' * 42}|-----:|-------:|----------:|")
    for name, times in table.items():
        median = statistics.median(times)
        print(f"| {name:<40} | {len(times):>4} | {min(times):>6.2f} | {median:>9.2f} |")


if __name__ == "__main__":
    main()
