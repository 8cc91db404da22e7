// The built component, unchanged, in Node.js: transpiled by jco, given WASI by
// @bytecodealliance/preview2-shim, and run against moto, a Step Functions emulator that
// checks every request's SigV4 signature. Each outcome is checked with moto's own
// DescribeExecution (through tests/peers/moto_peer.py), not with what the component says.
//
//   npm ci --prefix tests/node
//   npx --prefix tests/node jco transpile \
//     target/guest/wasm32-wasip2/guest/sfn_start_execution.wasm \
//     --instantiation async -o target/jco/sfn-action
//   node --test tests/node/
//
// SFN_JCO_MODULE (the generated .js) and SFN_PEERS_PYTHON (Python with moto): see helpers.mjs,
// which this file shares with async.test.mjs.
//
// How jco maps the WIT (jco 1.35):
// - records are objects with camelCase fields; `option<T>` is the value or `undefined`;
// - `s64` is a bigint;
// - a `result<T, E>` return gives T, or throws a `ComponentError` whose `.payload` is E
//   (for `start`, a `failure` record: `{ error, attempts }`);
// - a variant is `{ tag: 'kebab-case-name', val }`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

import {
  ARN, WORKSPACE, closedPort, component, field, pythonDateMs, startMoto, unique,
} from './helpers.mjs';

// --- The component and its peers -------------------------------------------------------

/** What `call` throws for a `result`'s `err`: a ComponentError; fails if it returns. */
function thrownBy(call) {
  let thrown;
  assert.throws(call, (e) => {
    thrown = e;
    return true;
  });
  assert.ok(thrown instanceof Error && 'payload' in thrown, `expected a ComponentError, got ${thrown}`);
  return thrown;
}

/** The `err` of the `result` that `call` returned. */
const payloadOf = (call) => thrownBy(call).payload;

let moto;
/** A moto that runs the state machines it starts (Pass, Fail, Wait, Choice). */
let running;
let sfn;

before(
  async () => {
    [moto, running, sfn] = await Promise.all([
      startMoto({ log: 'moto.log' }),
      startMoto({ log: 'moto-running.log', running: true }),
      component(),
    ]);
  },
  { timeout: 120_000 },
);

after(() => Promise.all([moto?.stop(), running?.stop()]));

// --- validate --------------------------------------------------------------------------

describe('validate', () => {
  test('a good config returns undefined', () => {
    assert.equal(sfn.validate({ stateMachineArn: ARN }), undefined);
    const full = {
      stateMachineArn: `${ARN}:PROD`,
      input: ' {"a" : [1, 2.5e3, null]}\n',
      name: 'run-1',
      region: 'us-east-1',
      traceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
    };
    assert.equal(sfn.validate(full), undefined);
  });

  test('every broken rule comes back at once, in argument order', () => {
    const errors = payloadOf(() =>
      sfn.validate({
        stateMachineArn: ARN,
        input: '{"a":',
        name: 'ж'.repeat(81),
        region: 'eu-west-1',
      }),
    );
    assert.deepEqual(errors, [
      field('input', 'must be valid JSON: EOF while parsing a value at line 1 column 5'),
      field('name', 'must be at most 80 characters (Unicode scalar values), got 81'),
      field(
        'region',
        "'eu-west-1' differs from the region of state_machine_arn ('us-east-1'); a state machine can only be started in its own region",
      ),
    ]);
  });

  test('all five arguments broken, one field with two errors', () => {
    const errors = payloadOf(() =>
      sfn.validate({ stateMachineArn: '', input: '', name: 'a b', region: 'Mars', traceHeader: 'é\n' }),
    );
    assert.deepEqual(errors, [
      field('state_machine_arn', 'is required and must not be empty'),
      field('input', 'must be valid JSON: EOF while parsing a value at line 1 column 0'),
      field('name', 'must not contain white space: found U+0020 at byte 1'),
      field(
        'region',
        "'Mars' is not a region name: use lower-case letters, digits and single hyphens, such as us-east-1",
      ),
      field('trace_header', "must contain only ASCII characters: found 'é' (U+00E9) at byte 0"),
      field('trace_header', 'must not contain CR or LF: found one at byte 2'),
    ]);
  });

  test('strings cross as UTF-8: lengths in scalar values, positions in bytes', () => {
    // A JS string counts UTF-16 units: 80 × U+1D11E is 160 of them, but 80 scalar values.
    assert.equal(sfn.validate({ stateMachineArn: ARN, name: '𝄞'.repeat(80) }), undefined);
    assert.deepEqual(
      payloadOf(() => sfn.validate({ stateMachineArn: ARN, name: '𝄞'.repeat(81) })),
      [field('name', 'must be at most 80 characters (Unicode scalar values), got 81')],
    );
    // '日本' is 2 UTF-16 units but 6 UTF-8 bytes.
    assert.deepEqual(payloadOf(() => sfn.validate({ stateMachineArn: ARN, name: '日本 x' })), [
      field('name', 'must not contain white space: found U+0020 at byte 6'),
    ]);
  });

  test('ARN rules name the part at fault', () => {
    const cases = [
      [
        `${ARN}/mapLabel`,
        "'HelloWorld/mapLabel' is a Distributed Map run label, which StartExecution does not accept: use the state machine's own ARN",
      ],
      [
        'arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run',
        "resource type must be 'stateMachine', got 'execution'",
      ],
      [
        'arn:aws-cn:states:us-east-1:123456789012:stateMachine:m',
        "region 'us-east-1' belongs to partition aws, not to the ARN's partition aws-cn",
      ],
    ];
    for (const [arn, message] of cases) {
      assert.deepEqual(payloadOf(() => sfn.validate({ stateMachineArn: arn })), [
        field('state_machine_arn', message),
      ]);
    }
  });
});

// --- prepare ---------------------------------------------------------------------------

/** `YYYYMMDDTHHMMSSZ` to milliseconds since the epoch. */
const amzDateMs = (d) =>
  Date.parse(d.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));

describe('prepare', () => {
  test('signs a request for moto: exact method, url, headers and body', () => {
    const name = unique('prepared');
    const input = '{"greeting":"héllo wörld ✓ 日本"}';
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1';
    const before = Date.now();
    const request = sfn.prepare(moto.machine({ name, input, traceHeader: trace }), moto.options());
    const after = Date.now();

    // The input travels as a JSON string holding the exact text; members in this order.
    const body =
      `{"stateMachineArn":"${moto.stateMachineArn}",` +
      `"input":"{\\"greeting\\":\\"héllo wörld ✓ 日本\\"}",` +
      `"name":"${name}","traceHeader":"${trace}"}`;
    assert.equal(request.body, body);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, `${moto.endpoint}/`);

    const names = request.headers.map(([k]) => k);
    assert.deepEqual(names, [
      'content-type', 'host', 'x-amz-target', 'x-amz-date', 'authorization', 'content-length',
    ]);
    const headers = Object.fromEntries(request.headers);
    assert.equal(headers['content-type'], 'application/x-amz-json-1.0');
    assert.equal(headers.host, new URL(moto.endpoint).host); // 127.0.0.1:PORT
    assert.equal(headers['x-amz-target'], 'AWSStepFunctions.StartExecution');
    // The signing time is the shim's wall clock, i.e. now, to the second.
    const date = headers['x-amz-date'];
    assert.match(date, /^\d{8}T\d{6}Z$/);
    const signed = amzDateMs(date);
    assert.ok(signed >= Math.floor(before / 1000) * 1000 && signed <= after, date);
    assert.match(
      headers.authorization,
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${moto.accessKeyId}/${date.slice(0, 8)}/us-east-1/states/aws4_request, ` +
          'SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$',
      ),
    );
    // UTF-8 bytes, not UTF-16 units: the input's non-ASCII text makes them differ.
    assert.equal(headers['content-length'], String(Buffer.byteLength(body, 'utf8')));
    assert.notEqual(Buffer.byteLength(body, 'utf8'), body.length);
  });

  test('session credentials add a signed x-amz-security-token', () => {
    const { session } = moto;
    const request = sfn.prepare(moto.machine(), moto.options({ credentials: session }));
    // The token follows the authorization header, as the aws-sigv4 crate emits it.
    assert.deepEqual(
      request.headers.map(([k]) => k),
      [
        'content-type', 'host', 'x-amz-target', 'x-amz-date', 'authorization',
        'x-amz-security-token', 'content-length',
      ],
    );
    const headers = Object.fromEntries(request.headers);
    assert.equal(headers['x-amz-security-token'], session.sessionToken);
    assert.match(
      headers.authorization,
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${session.accessKeyId}/${headers['x-amz-date'].slice(0, 8)}` +
          '/us-east-1/states/aws4_request, ' +
          'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, ' +
          'Signature=[0-9a-f]{64}$',
      ),
    );
  });

  test("with the host's wall clock pinned, it reproduces the shared SigV4 vector", async () => {
    // tests/fixtures/sigv4-vector.json, which every layer (and the README) shows.
    const vector = JSON.parse(
      await readFile(resolve(WORKSPACE, 'tests/fixtures/sigv4-vector.json'), 'utf8'),
    );
    const wallClock = {
      now: () => ({ seconds: BigInt(vector.signing_time_epoch_seconds), nanoseconds: 0 }),
      resolution: () => ({ seconds: 0n, nanoseconds: 1 }),
    };
    const pinned = await component({ wallClock });
    const credentials = {
      accessKeyId: vector.access_key_id,
      secretAccessKey: vector.secret_access_key,
    };
    // No endpoint option and an empty environment: the ARN's regional endpoint.
    const standard = { credentials, useFips: false, useDualStack: false };
    assert.deepEqual(
      pinned.prepare({ stateMachineArn: vector.state_machine_arn }, standard),
      vector.request,
    );
  });

  test("the prepared request, sent by Node's own fetch, starts an execution in moto", async () => {
    const name = unique('fetched');
    const input = '{"via":"fetch ✓"}';
    const request = sfn.prepare(moto.machine({ name, input }), moto.options());
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    const { executionArn } = JSON.parse(text);
    const found = await moto.describe(executionArn);
    assert.deepEqual([found.name, found.input], [name, input]);
  });

  test('client option errors join the argument errors; nothing is signed', () => {
    const error = payloadOf(() =>
      sfn.prepare(
        { stateMachineArn: `${ARN}:`, input: '{' },
        moto.options({ endpointUrl: 'ftp://example', useFips: true }),
      ),
    );
    assert.deepEqual(error, {
      tag: 'invalid-config',
      val: [
        field('state_machine_arn', 'version or alias after the state machine name must not be empty'),
        field('input', 'must be valid JSON: EOF while parsing an object at line 1 column 1'),
        field(
          'use_fips',
          'FIPS and custom endpoint are not supported together: drop use_fips or the custom endpoint',
        ),
        field('endpoint_url', "the custom endpoint 'ftp://example' must start with https:// or http://"),
      ],
    });
  });

  test('no credentials and an empty environment: missing-credentials', () => {
    const anonymous = moto.options({ credentials: undefined });
    assert.deepEqual(payloadOf(() => sfn.prepare({ stateMachineArn: ARN }, anonymous)), {
      tag: 'missing-credentials',
      val: 'pass credentials in the client options or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)',
    });
  });
});

// --- start -----------------------------------------------------------------------------

describe('start', () => {
  test('a plain start is running in moto', async () => {
    const before = Date.now();
    const execution = sfn.start(moto.machine(), moto.options());
    const after = Date.now();
    assert.deepEqual(Object.keys(execution).sort(), [
      'attempts',
      'executionArn',
      'requestId',
      'startDateEpochMs',
    ]);
    assert.equal(execution.attempts, 1);
    assert.equal(typeof execution.startDateEpochMs, 'bigint'); // s64
    // moto's clock is this machine's; a second of slack covers its rounding to milliseconds.
    const started = Number(execution.startDateEpochMs);
    assert.ok(started >= before - 1000 && started <= after + 1000, `${started} in [${before}, ${after}]`);
    assert.equal(typeof execution.requestId, 'string');
    assert.ok(execution.requestId.length > 0);

    const found = await moto.describe(execution.executionArn);
    assert.equal(found.status, 'RUNNING');
    assert.equal(found.stateMachineArn, moto.stateMachineArn);
    assert.equal(found.input, '{}'); // no input means `{}`
    // Unnamed: the component names it with a random UUID (version 4) before sending, so
    // that a retry carries the same name.
    assert.match(found.name, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(execution.executionArn, moto.executionArnOf(found.name));
    assert.equal(BigInt(pythonDateMs(found.startDate)), execution.startDateEpochMs);
  });

  test('name and input arrive byte for byte', async () => {
    for (const input of [
      '{"greeting":"héllo wörld ✓ 日本"}',
      // Spacing, key order, escapes and astral characters survive: input is a string.
      '{ "greeting" : "héllo wörld ✓ 日本 🚀",\n  "n": 1.50, "esc": "\\u00e9\\"" }',
    ]) {
      const name = unique('bytes-ü');
      const execution = sfn.start(moto.machine({ name, input }), moto.options());
      assert.equal(execution.executionArn, moto.executionArnOf(name));
      const found = await moto.describe(execution.executionArn);
      assert.deepEqual([found.name, found.input], [name, input]);
    }
  });

  test('the same name and input twice is the same execution', () => {
    const config = moto.machine({ name: unique('twice'), input: '{"n":1}' });
    const first = sfn.start(config, moto.options());
    const second = sfn.start(config, moto.options());
    assert.equal(second.executionArn, first.executionArn);
    assert.equal(second.startDateEpochMs, first.startDateEpochMs);
  });

  test('the same name with other input: ExecutionAlreadyExists', () => {
    const name = unique('exists');
    const first = sfn.start(moto.machine({ name, input: '{"n":1}' }), moto.options());
    const { error, attempts } = payloadOf(() =>
      sfn.start(moto.machine({ name, input: '{"n":2}' }), moto.options()),
    );
    assert.equal(attempts, 1);
    assert.equal(error.tag, 'service');
    assert.equal(typeof error.val.requestId, 'string');
    assert.deepEqual(error.val, {
      status: 400,
      code: 'ExecutionAlreadyExists',
      message: `Execution Already Exists: '${first.executionArn}'`,
      requestId: error.val.requestId,
    });
  });

  test('temporary credentials from AssumeRole start an execution', async () => {
    const name = unique('session');
    const temporary = moto.options({ credentials: moto.session });
    const execution = sfn.start(moto.machine({ name }), temporary);
    assert.equal((await moto.describe(execution.executionArn)).name, name);
  });

  test('a wrong secret: SignatureDoesNotMatch, and the secret appears nowhere', () => {
    const wrong = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY';
    const thrown = thrownBy(() =>
      sfn.start(
        moto.machine({ name: unique('wrong') }),
        moto.options({ credentials: { accessKeyId: moto.accessKeyId, secretAccessKey: wrong } }),
      ),
    );
    const { tag, val } = thrown.payload.error;
    assert.equal(tag, 'service');
    // moto answers this one in XML, not JSON; code and message still come through.
    assert.deepEqual([val.status, val.code], [403, 'SignatureDoesNotMatch']);
    assert.ok(val.message.startsWith('The request signature we calculated does not match'), val.message);
    for (const shown of [JSON.stringify(thrown.payload), String(thrown), thrown.stack]) {
      assert.ok(!shown.includes(wrong), shown);
    }
  });

  test('an unknown state machine: StateMachineDoesNotExist', () => {
    const unknown = moto.stateMachineArn.replace(':HelloWorld', ':NoSuchMachine');
    const { tag, val } = payloadOf(() => sfn.start({ stateMachineArn: unknown }, moto.options())).error;
    assert.equal(tag, 'service');
    assert.deepEqual([val.status, val.code, val.message], [
      400,
      'StateMachineDoesNotExist',
      `State Machine Does Not Exist: '${unknown}'`,
    ]);
  });

  test('nothing listening: a transport error naming the endpoint, after every attempt', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const twice = moto.options({ endpointUrl: endpoint, maxAttempts: 2 });
    assert.deepEqual(payloadOf(() => sfn.start(moto.machine(), twice)), {
      error: { tag: 'transport', val: `request to ${endpoint}/ failed: connection refused` },
      attempts: 2,
      // Refused connections sent nothing: no execution can have started.
      maybeStarted: undefined,
    });
  });

  test('the timeout ends a call to a server that never answers', async () => {
    // Accepts, reads, never answers: the call's deadline, kept by the component on
    // wasi:clocks, ends it whatever the shim does with timeouts.
    const silent = createServer((socket) => socket.on('data', () => {}));
    await new Promise((done) => silent.listen(0, '127.0.0.1', done));
    const endpoint = `http://127.0.0.1:${silent.address().port}`;
    try {
      const started = Date.now();
      const bounded = moto.options({ endpointUrl: endpoint, timeoutMs: 500n });
      const name = unique('silent');
      assert.deepEqual(payloadOf(() => sfn.start(moto.machine({ name }), bounded)), {
        error: {
          tag: 'transport',
          val: `request to ${endpoint}/ failed: waiting for the response: the call's timeout of 500ms passed`,
        },
        attempts: 1,
        // The request went out unanswered: the execution it may have started.
        maybeStarted: moto.executionArnOf(name),
      });
      const waited = Date.now() - started;
      assert.ok(waited >= 500 && waited < 15_000, `${waited} ms`);
    } finally {
      silent.close();
    }
  });

  test('credentials and endpoint from the environment the host gives', async () => {
    // Read through wasi:cli/environment, which the shim answers from `sandbox.env` only.
    const fromEnv = await component({
      env: {
        AWS_ACCESS_KEY_ID: moto.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.secretAccessKey,
        AWS_ENDPOINT_URL_SFN: moto.endpoint,
      },
    });
    const name = unique('env');
    const execution = fromEnv.start(moto.machine({ name }), { useFips: false, useDualStack: false });
    assert.equal((await moto.describe(execution.executionArn)).name, name);
  });
});

// --- wait, describe, start-sync --------------------------------------------------------

describe('wait', () => {
  test('waits for a Pass execution and returns its output byte for byte', async () => {
    const config = { stateMachineArn: running.machines.Pass, input: '{"x": "ü"}' };
    const started = sfn.start(config, running.options());
    const outcome = sfn.wait(started.executionArn, running.options(), 60_000n);
    assert.equal(outcome.status, 'SUCCEEDED');
    assert.equal(outcome.executionArn, started.executionArn);
    assert.equal(typeof outcome.stopDateEpochMs, 'bigint');
    assert.ok(outcome.stopDateEpochMs >= outcome.startDateEpochMs);
    const found = await running.describe(started.executionArn);
    assert.equal(outcome.output, found.output);
    assert.deepEqual(JSON.parse(outcome.output), {
      x: 'ü',
      result: { greeting: 'héllo 🚀', n: [1, 2.5, null] },
    });
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.billing, undefined);
    // DescribeExecution once more says the same.
    const described = sfn.describe(started.executionArn, running.options());
    assert.equal(described.status, 'SUCCEEDED');
    assert.equal(described.attempts, 1);
  });

  test('a Fail state ends FAILED with its error and cause', () => {
    const started = sfn.start({ stateMachineArn: running.machines.Fail }, running.options());
    const outcome = sfn.wait(started.executionArn, running.options(), 60_000n);
    assert.deepEqual([outcome.status, outcome.error, outcome.cause, outcome.output], [
      'FAILED',
      'Custom.Broken',
      'it went "wrong"',
      undefined,
    ]);
  });

  test('a wait shorter than the Wait state returns it RUNNING', () => {
    const started = sfn.start({ stateMachineArn: running.machines.Wait }, running.options());
    const before = Date.now();
    const outcome = sfn.wait(started.executionArn, running.options(), 500n);
    const waited = Date.now() - before;
    assert.equal(outcome.status, 'RUNNING');
    assert.equal(outcome.stopDateEpochMs, undefined);
    // Not before its 500 ms; RUNNING already says it ended before the 2 s Wait state did,
    // so the upper bound only catches a wait that hangs.
    assert.ok(waited >= 500 && waited < 30_000, `${waited} ms`);
  });

  test('an express execution is refused before any request, naming start-sync', () => {
    const express = 'arn:aws:states:us-east-1:123456789012:express:M:run-1:5e0f';
    const failure = payloadOf(() => sfn.wait(express, running.options(), 1000n));
    assert.equal(failure.attempts, 0);
    assert.equal(failure.error.tag, 'invalid-config');
    assert.equal(failure.error.val[0].field, 'execution_arn');
    assert.match(failure.error.val[0].message, /StartSyncExecution \(--sync\)/);
  });

  test('prepare-sync signs for the sync- host on AWS and the custom endpoint as given', () => {
    const aws = sfn.prepareSync(moto.machine(), moto.options({ endpointUrl: undefined }));
    assert.equal(aws.url, 'https://sync-states.us-east-1.amazonaws.com/');
    const target = aws.headers.find(([name]) => name === 'x-amz-target');
    assert.deepEqual(target, ['x-amz-target', 'AWSStepFunctions.StartSyncExecution']);
    const local = sfn.prepareSync(moto.machine(), moto.options());
    assert.equal(local.url, `${moto.endpoint}/`);
  });
});
