// bindings/node/sfn-action.mjs: the same jco output, each call run in a worker thread and
// answered with a Promise. Loopback stand-ins (stand-in.mjs, in a thread of their own) show
// that the caller's event loop stays free and that calls run side by side; moto shows the
// records and errors a host user gets, each outcome checked with moto's own
// DescribeExecution. Inputs as for start-execution.test.mjs (see helpers.mjs).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { SfnError } from '../../bindings/node/sfn-action.mjs';
import {
  ARN, HERE, MODULE, WORKSPACE, closedPort, field, openAsync, pythonDateMs, standInExecutionArn,
  startMoto, startStandIn, unique,
} from './helpers.mjs';

/** Every test: a call that never settles fails its test instead of hanging the file. */
const BOUND = { timeout: 60_000 };

/** A moto that runs the state machines it starts: HelloWorld, Pass, Fail, Wait, Choice. */
let moto;
/** The API as a host opens it: the default pool. */
let sfn;

before(
  async () => {
    sfn = openAsync();
    moto = await startMoto({ log: 'moto-async.log', running: true });
  },
  { timeout: 120_000 },
);

after(() => Promise.all([moto?.stop(), sfn?.close()]));

/** What `promise` rejects with; fails if it resolves. */
async function rejection(promise) {
  let thrown;
  await assert.rejects(promise, (e) => {
    thrown = e;
    return true;
  });
  return thrown;
}

/** The payload of the SfnError `promise` rejects with. */
async function payloadOf(promise) {
  const error = await rejection(promise);
  assert.ok(error instanceof SfnError, `expected an SfnError, got ${error?.stack}`);
  return error.payload;
}

/** A config for the stand-in, which answers for any state machine. */
const named = (name) => ({ stateMachineArn: ARN, name });

/** What the stand-in answers for the execution `name`, its request number `n`. */
const standInExecution = (name, n) => ({
  executionArn: standInExecutionArn(name),
  startDateEpochMs: 1_700_000_000_000n,
  requestId: `stand-in-${n}`,
  attempts: 1,
});

// --- Never blocking --------------------------------------------------------------------

describe("the caller's thread", () => {
  test('a timer keeps firing while a start waits on an answer 2 s late', BOUND, async () => {
    const standIn = await startStandIn({ answerAfterMs: 2000 });
    const client = openAsync({ workers: 1 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const began = Date.now();
    let execution;
    try {
      execution = await client.start(named('late'), standIn.options({ timeoutMs: 20_000n }));
    } finally {
      clearInterval(timer);
      await Promise.all([client.close(), standIn.close()]);
    }
    const elapsed = Date.now() - began;
    assert.deepEqual(execution, standInExecution('late', 1));
    assert.ok(elapsed >= 2000, `${elapsed} ms`);
    // Blocked, the timer fires not once during the call; free, 200 times in 2 s. A quarter
    // of that leaves room for a busy machine.
    assert.ok(ticks >= 50, `${ticks} ticks of a 10 ms interval in ${elapsed} ms`);
  });

  test('four starts are in flight at once on the default pool', BOUND, async () => {
    // The stand-in answers none before it holds all four: with fewer in flight at once,
    // the held ones reach their timeout (under the shim's 10 s socket timeout) and fail.
    const standIn = await startStandIn({ together: 4 });
    const options = standIn.options({ timeoutMs: 8_000n, maxAttempts: 1 });
    const names = ['one', 'two', 'three', 'four'];
    try {
      const executions = await Promise.all(names.map((name) => sfn.start(named(name), options)));
      // Request numbers follow arrival, which the threads decide.
      const n = Object.fromEntries(standIn.requests.map((request) => [request.name, request.n]));
      assert.deepEqual(Object.values(n).sort(), [1, 2, 3, 4]);
      assert.deepEqual(executions, names.map((name) => standInExecution(name, n[name])));
      assert.deepEqual(
        standIn.requests.map(({ target }) => target),
        Array(4).fill('AWSStepFunctions.StartExecution'),
      );
    } finally {
      await standIn.close();
    }
  });

  test('close() rejects a queued call and lets the call in flight finish', BOUND, async () => {
    const standIn = await startStandIn({ answerAfterMs: 1500 });
    const client = openAsync({ workers: 1 });
    const options = standIn.options({ timeoutMs: 20_000n });
    try {
      const inFlight = client.start(named('in-flight'), options);
      await standIn.arrived(1);
      // The one worker is busy: this call waits in the queue.
      const queued = client.start(named('queued'), options);
      const closed = client.close();
      assert.equal((await rejection(queued)).message, 'start: the sfn-action client is closed');
      const later = await rejection(client.validate({ stateMachineArn: ARN }));
      assert.equal(later.message, 'validate: the sfn-action client is closed');
      assert.deepEqual(await inFlight, standInExecution('in-flight', 1));
      assert.equal(await closed, undefined);
      assert.deepEqual(standIn.requests.map(({ name }) => name), ['in-flight']);
    } finally {
      await Promise.all([client.close(), standIn.close()]);
    }
  });
});

// --- With moto -------------------------------------------------------------------------

describe('start', () => {
  test('a named start arrives byte for byte: the execution moto describes', BOUND, async () => {
    const name = unique('async-ü');
    const input = '{ "greeting" : "héllo wörld ✓ 日本 🚀",\n  "n": 1.50 }';
    const before = Date.now();
    const execution = await sfn.start(moto.machine({ name, input }), moto.options());
    const after = Date.now();
    const found = await moto.describe(execution.executionArn);
    assert.deepEqual(
      [found.name, found.input, found.stateMachineArn],
      [name, input, moto.stateMachineArn],
    );
    assert.equal(typeof execution.requestId, 'string');
    assert.deepEqual(execution, {
      executionArn: moto.executionArnOf(name),
      startDateEpochMs: BigInt(pythonDateMs(found.startDate)),
      requestId: execution.requestId,
      attempts: 1,
    });
    // moto's clock is this machine's; a second of slack covers its rounding.
    const started = Number(execution.startDateEpochMs);
    assert.ok(started >= before - 1000 && started <= after + 1000, `${started} ${before} ${after}`);
  });

  test('an unnamed start gets a UUID name before it is sent', BOUND, async () => {
    const execution = await sfn.start(moto.machine(), moto.options());
    const found = await moto.describe(execution.executionArn);
    const uuid4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(found.name, uuid4);
    assert.equal(execution.executionArn, moto.executionArnOf(found.name));
    assert.equal(found.input, '{}');
  });

  test('the same name with other input: an SfnError with the service error', BOUND, async () => {
    const name = unique('async-exists');
    const first = await sfn.start(moto.machine({ name, input: '{"n":1}' }), moto.options());
    const again = sfn.start(moto.machine({ name, input: '{"n":2}' }), moto.options());
    const error = await rejection(again);
    assert.ok(error instanceof SfnError);
    const { requestId } = error.payload.error.val;
    assert.equal(typeof requestId, 'string');
    const message = `Execution Already Exists: '${first.executionArn}'`;
    assert.deepEqual(error.payload, {
      error: {
        tag: 'service',
        val: { status: 400, code: 'ExecutionAlreadyExists', message, requestId },
      },
      attempts: 1,
      maybeStarted: undefined,
    });
    assert.equal(
      error.message,
      `start: ExecutionAlreadyExists (HTTP 400): ${message} (requests sent: 1)`,
    );
  });

  test('credentials and endpoint from the environment given to open()', BOUND, async () => {
    const fromEnv = openAsync({
      workers: 1,
      env: {
        AWS_ACCESS_KEY_ID: moto.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.secretAccessKey,
        AWS_ENDPOINT_URL_SFN: moto.endpoint,
        AWS_SESSION_TOKEN: undefined, // left out, as an unset variable is
      },
    });
    try {
      const name = unique('async-env');
      const noOptions = { useFips: false, useDualStack: false };
      const execution = await fromEnv.start(moto.machine({ name }), noOptions);
      assert.equal((await moto.describe(execution.executionArn)).name, name);
    } finally {
      await fromEnv.close();
    }
  });
});

describe('errors', () => {
  test('validate: every broken rule, exactly, in an SfnError', BOUND, async () => {
    assert.equal(await sfn.validate({ stateMachineArn: ARN }), undefined);
    const broken = { stateMachineArn: ARN, input: '{"a":', name: 'a b' };
    const error = await rejection(sfn.validate(broken));
    assert.ok(error instanceof SfnError);
    assert.equal(error.name, 'SfnError');
    assert.deepEqual(error.payload, [
      field('input', 'must be valid JSON: EOF while parsing a value at line 1 column 5'),
      field('name', 'must not contain white space: found U+0020 at byte 1'),
    ]);
    assert.equal(
      error.message,
      'validate: invalid config: ' +
        'input must be valid JSON: EOF while parsing a value at line 1 column 5; ' +
        'name must not contain white space: found U+0020 at byte 1',
    );
  });

  test("start: bad arguments and options are the component's invalid-config", BOUND, async () => {
    const config = { stateMachineArn: '', region: 'Mars' };
    const options = moto.options({ endpointUrl: 'ftp://example', useFips: true });
    assert.deepEqual(await payloadOf(sfn.start(config, options)), {
      error: {
        tag: 'invalid-config',
        val: [
          field('state_machine_arn', 'is required and must not be empty'),
          field(
            'region',
            "'Mars' is not a region name: use lower-case letters, digits and single hyphens, such as us-east-1",
          ),
          field(
            'use_fips',
            'FIPS and custom endpoint are not supported together: drop use_fips or the custom endpoint',
          ),
          field(
            'endpoint_url',
            "the custom endpoint 'ftp://example' must start with https:// or http://",
          ),
        ],
      },
      // Nothing was sent.
      attempts: 0,
      maybeStarted: undefined,
    });
  });

  test('prepare: missing credentials is the error variant itself', BOUND, async () => {
    const anonymous = moto.options({ credentials: undefined });
    assert.deepEqual(await payloadOf(sfn.prepare(moto.machine(), anonymous)), {
      tag: 'missing-credentials',
      val: 'pass credentials in the client options or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)',
    });
  });

  test('nothing listening: a transport error, and nothing can have started', BOUND, async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const twice = moto.options({ endpointUrl: endpoint, maxAttempts: 2 });
    assert.deepEqual(await payloadOf(sfn.start(moto.machine(), twice)), {
      error: { tag: 'transport', val: `request to ${endpoint}/ failed: connection refused` },
      attempts: 2,
      maybeStarted: undefined,
    });
  });

  test('an answer that never comes: maybeStarted names the execution', BOUND, async () => {
    const silent = await startStandIn({ answerAfterMs: 600_000 });
    try {
      const name = unique('async-silent');
      const bounded = silent.options({ timeoutMs: 500n });
      assert.deepEqual(await payloadOf(sfn.start(named(name), bounded)), {
        error: {
          tag: 'transport',
          val:
            `request to ${silent.endpoint}/ failed: waiting for the response: ` +
            "the call's timeout of 500ms passed",
        },
        attempts: 1,
        maybeStarted: standInExecutionArn(name),
      });
    } finally {
      await silent.close();
    }
  });
});

describe('wait', () => {
  test('a Pass execution: SUCCEEDED with its output, as moto describes it', BOUND, async () => {
    const config = { stateMachineArn: moto.machines.Pass, input: '{"x": "ü"}' };
    const started = await sfn.start(config, moto.options());
    const outcome = await sfn.wait(started.executionArn, moto.options(), 60_000n);
    const found = await moto.describe(started.executionArn);
    assert.equal(typeof outcome.requestId, 'string');
    assert.deepEqual(outcome, {
      executionArn: started.executionArn,
      status: 'SUCCEEDED',
      startDateEpochMs: started.startDateEpochMs,
      stopDateEpochMs: BigInt(pythonDateMs(found.stopDate)),
      output: found.output,
      error: undefined,
      cause: undefined,
      billing: undefined,
      requestId: outcome.requestId,
      attempts: outcome.attempts,
    });
    assert.deepEqual(JSON.parse(outcome.output), {
      x: 'ü',
      result: { greeting: 'héllo 🚀', n: [1, 2.5, null] },
    });
    const described = await sfn.describe(started.executionArn, moto.options());
    assert.deepEqual(
      [described.status, described.output, described.attempts],
      ['SUCCEEDED', found.output, 1],
    );
  });

  test('a 2 s Wait state: polled until it ends', BOUND, async () => {
    const started = await sfn.start({ stateMachineArn: moto.machines.Wait }, moto.options());
    const outcome = await sfn.wait(started.executionArn, moto.options(), 60_000n);
    assert.equal(outcome.status, 'SUCCEEDED');
    const ran = outcome.stopDateEpochMs - outcome.startDateEpochMs;
    assert.ok(ran >= 2000n, `${ran} ms`);
    assert.ok(outcome.attempts > 1, `${outcome.attempts} polls`);
  });

  test('a Fail state: FAILED with its error and cause', BOUND, async () => {
    const started = await sfn.start({ stateMachineArn: moto.machines.Fail }, moto.options());
    const outcome = await sfn.wait(started.executionArn, moto.options(), 60_000n);
    assert.deepEqual([outcome.status, outcome.error, outcome.cause, outcome.output], [
      'FAILED',
      'Custom.Broken',
      'it went "wrong"',
      undefined,
    ]);
  });
});

// --- Faults ----------------------------------------------------------------------------

describe('faults', () => {
  test('no argument crashes this thread: bad calls reject, the next works', BOUND, async () => {
    const client = openAsync({ workers: 1 });
    const replaced = ' (its worker was replaced)';
    try {
      // Refused by structured clone on this thread: nothing reached the worker. Queued
      // behind another call, it is sent from the handler of that call's answer.
      const withFunction = { stateMachineArn: ARN, input: () => '{}' };
      const [first, queued] = await Promise.allSettled([
        client.validate({ stateMachineArn: ARN }),
        client.validate(withFunction),
      ]);
      assert.deepEqual(first, { status: 'fulfilled', value: undefined });
      assert.equal(queued.reason.name, 'DataCloneError');
      assert.equal(queued.reason.message, "() => '{}' could not be cloned.");
      const throwing = {
        get stateMachineArn() {
          throw new Error('from a getter');
        },
      };
      assert.equal((await rejection(client.validate(throwing))).message, 'from a getter');
      // Refused by jco in the worker, before the component runs; the worker is replaced.
      const wrongType = await rejection(client.validate({ stateMachineArn: 42 }));
      assert.equal(
        wrongType.message,
        `validate: TypeError: expected a string, received [number]${replaced}`,
      );
      assert.equal(wrongType.cause.name, 'TypeError');
      assert.equal(
        (await rejection(client.validate(null))).message,
        "validate: TypeError: Cannot destructure property 'stateMachineArn' of 'arg0' as it is null." +
          replaced,
      );
      assert.equal(
        (await rejection(client.wait('arn', moto.options(), 'soon'))).message,
        `wait: SyntaxError: Cannot convert soon to a BigInt${replaced}`,
      );
      assert.equal(await client.validate({ stateMachineArn: ARN }), undefined);
    } finally {
      await client.close();
    }
  });

  test('a trap, a dead worker, an unclonable result: a new worker follows', BOUND, async () => {
    const client = openAsync({ module: resolve(HERE, 'faulty-component.mjs'), workers: 1 });
    try {
      const instance = async () => (await client.prepare()).instance;
      const first = await instance();
      assert.equal(await instance(), first); // One worker, one instance, while it is sound.

      const trap = await rejection(client.start());
      assert.equal(trap.message, 'start: RuntimeError: unreachable (its worker was replaced)');
      const second = await instance();
      assert.notEqual(second, first);

      const died = await rejection(client.startSync());
      assert.equal(
        died.message,
        'startSync: its worker exited (code 7) before the call returned; ' +
          'the request it sent may have started an execution',
      );
      const third = await instance();
      assert.notEqual(third, second);

      const unclonable = await rejection(client.describe());
      assert.equal(
        unclonable.message,
        "describe: DataCloneError: () => 'not a record' could not be cloned. (its worker was replaced)",
      );
      assert.notEqual(await instance(), third);
    } finally {
      await client.close();
    }
  });

  test('a component that fails to load rejects each call', BOUND, async () => {
    const module = resolve(HERE, 'faulty-component.mjs');
    const client = openAsync({ module, workers: 1, env: { FAULT: 'load' } });
    const url = pathToFileURL(module).href;
    try {
      for (const call of [client.prepare(), client.prepare()]) {
        assert.equal(
          (await rejection(call)).message,
          `prepare: Error: cannot load the component ${url}: no instance (its worker was replaced)`,
        );
      }
    } finally {
      await client.close();
    }
  });

  test('a worker that dies of an uncaught exception rejects its call', BOUND, async () => {
    const module = resolve(HERE, 'faulty-component.mjs');
    const client = openAsync({ module, workers: 1, env: { FAULT: 'uncaught' } });
    try {
      const died = await rejection(client.prepare());
      assert.equal(died.message, 'prepare: its worker failed: lost in the worker');
      assert.equal(died.cause.message, 'lost in the worker');
    } finally {
      await client.close();
    }
  });
});

// --- Processes -------------------------------------------------------------------------

const run = promisify(execFile);
const helpers = JSON.stringify(pathToFileURL(resolve(HERE, 'helpers.mjs')).href);

/** Runs `code` (an ES module) in a new Node process, which must exit by itself in 30 s. */
const node = (code) =>
  run(process.execPath, ['--input-type=module', '--eval', code], { timeout: 30_000 });

describe('the process', () => {
  test('idle workers do not keep it alive: it exits without close()', BOUND, async () => {
    const { stdout } = await node(`
      const { ARN, openAsync } = await import(${helpers});
      const sfn = openAsync();
      console.log(await sfn.validate({ stateMachineArn: ARN }));
    `);
    assert.equal(stdout, 'undefined\n');
  });

  test('nor does a worker that never took a call', BOUND, async () => {
    const { stdout } = await node(`
      const { ARN, openAsync } = await import(${helpers});
      const sfn = openAsync();
      const refused = sfn.validate({ stateMachineArn: ARN, input: () => '{}' });
      console.log((await refused.catch((error) => error)).name);
    `);
    assert.equal(stdout, 'DataCloneError\n');
  });

  test('close() ends the workers, and the process exits', BOUND, async () => {
    const { stdout } = await node(`
      const { ARN, openAsync } = await import(${helpers});
      const sfn = openAsync();
      const config = { stateMachineArn: ARN };
      await Promise.all([sfn.validate(config), sfn.validate(config)]);
      console.log(await sfn.close());
    `);
    assert.equal(stdout, 'undefined\n');
  });

  test('example.mjs, laid out as a user would, starts an execution', BOUND, async () => {
    // bindings/node's files, jco's output in ./sfn-action, and node_modules with the shim.
    const project = resolve(WORKSPACE, 'target/jco/node-example');
    rmSync(project, { recursive: true, force: true });
    mkdirSync(project, { recursive: true });
    for (const file of ['sfn-action.mjs', 'worker.mjs', 'example.mjs']) {
      copyFileSync(resolve(WORKSPACE, 'bindings/node', file), resolve(project, file));
    }
    symlinkSync(dirname(MODULE), resolve(project, 'sfn-action'));
    symlinkSync(resolve(HERE, 'node_modules'), resolve(project, 'node_modules'));
    // Only what the example says it reads.
    const env = {
      AWS_ACCESS_KEY_ID: moto.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.secretAccessKey,
      AWS_ENDPOINT_URL_SFN: moto.endpoint,
    };
    const { stdout } = await run(process.execPath, [resolve(project, 'example.mjs')], {
      env,
      timeout: 30_000,
    });
    const executionArn = stdout.trim();
    assert.match(executionArn, /^arn:aws:states:us-east-1:123456789012:execution:HelloWorld:/);
    assert.equal((await moto.describe(executionArn)).stateMachineArn, moto.stateMachineArn);
  });

  test("the README's JavaScript snippet is example.mjs, byte for byte", async () => {
    const readme = await readFile(resolve(WORKSPACE, 'README.md'), 'utf8');
    const snippets = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map(([, code]) => code);
    const example = await readFile(resolve(WORKSPACE, 'bindings/node/example.mjs'), 'utf8');
    assert.deepEqual(snippets, [example]);
  });
});
