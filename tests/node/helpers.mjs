// What the Node tests (and tests/bench/node_host.mjs) share: their inputs, the component
// both ways (jco's blocking instance and the worker-thread API of bindings/node), the moto
// peer, the loopback stand-in, and small helpers. Bare imports resolve here, from
// tests/node/node_modules.
//
// SFN_JCO_MODULE (the generated .js) and SFN_PEERS_PYTHON (Python with moto) override the
// defaults, target/jco/sfn-action/sfn_start_execution.js and target/peers/venv/bin/python.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { clocks } from '@bytecodealliance/preview2-shim';
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';

import { open } from '../../bindings/node/sfn-action.mjs';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const WORKSPACE = resolve(HERE, '../..');

/** An input the tests need, or a message that says how to make it. */
function required(variable, fallback, what) {
  const path = process.env[variable] ?? fallback;
  if (!existsSync(path)) {
    throw new Error(
      `${path} (${what}) is missing: run the project's test script, tests/run, which ` +
        `creates it (or set ${variable} to its absolute path)`,
    );
  }
  return path;
}

export const MODULE = required(
  'SFN_JCO_MODULE',
  resolve(WORKSPACE, 'target/jco/sfn-action/sfn_start_execution.js'),
  'the component transpiled by jco: `npm --prefix tests/node run transpile`',
);
const PYTHON = required(
  'SFN_PEERS_PYTHON',
  resolve(WORKSPACE, 'target/peers/venv/bin/python'),
  'the Python virtual environment with moto',
);

/** preview2-shim from tests/node/node_modules: bindings/node has no node_modules above it. */
export const SHIM = import.meta.resolve('@bytecodealliance/preview2-shim/instantiation');

export const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld';

// --- The component ---------------------------------------------------------------------

/**
 * A fresh instance of the component's `start-execution` interface, as jco gives it: its
 * calls block this thread. The module is built with `--instantiation` so that it imports
 * nothing itself (it lives in target/, away from node_modules): the WASI imports come from
 * the shim here. The environment is empty unless given, so credentials and endpoints come
 * only from what a test passes.
 */
export async function component({ env = {}, wallClock } = {}) {
  const { instantiate } = await import(pathToFileURL(MODULE).href);
  const shim = new WASIShim({
    sandbox: { env },
    ...(wallClock && { clocks: { ...clocks, wallClock } }),
  });
  const compile = async (file) =>
    WebAssembly.compile(await readFile(resolve(dirname(MODULE), file)));
  const root = await instantiate(compile, shim.getImportObject());
  return root.startExecution;
}

/** The worker-thread API of bindings/node over the same module; `settings` as `open`'s. */
export const openAsync = (settings = {}) => open({ module: MODULE, shim: SHIM, ...settings });

export const field = (name, message) => ({ field: name, message });

// --- moto ------------------------------------------------------------------------------

/**
 * moto_peer.py: starts moto, prints one JSON line about it, then answers one JSON line per
 * command. It stops moto when its standard input closes. `log` names its log in
 * target/jco; a `running` moto runs the state machines it starts (Pass, Fail, Wait, Choice).
 */
export async function startMoto({ log, running = false }) {
  const logPath = resolve(WORKSPACE, 'target/jco', log);
  mkdirSync(dirname(logPath), { recursive: true });
  const script = resolve(WORKSPACE, 'tests/peers/moto_peer.py');
  const args = running ? [script, logPath, 'running'] : [script, logPath];
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (what) => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`moto_peer.py exited while ${what} (log: ${logPath})`);
    return JSON.parse(value);
  };
  const info = await next('starting moto');
  const user = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };
  return {
    ...info,
    /** The IAM user's access key. */
    user,
    /** A config for moto's HelloWorld state machine. */
    machine: (fields = {}) => ({ stateMachineArn: info.stateMachineArn, ...fields }),
    /** The ARN moto gives the execution `name` of HelloWorld. */
    executionArnOf: (name) =>
      `${info.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
    /** Client options for this moto with the user's key; `overrides` replace any field. */
    options: (overrides = {}) => ({
      credentials: user,
      endpointUrl: info.endpoint,
      useFips: false,
      useDualStack: false,
      ...overrides,
    }),
    /** moto's DescribeExecution, signed by botocore with the user's key. */
    async describe(executionArn) {
      child.stdin.write(`${JSON.stringify({ op: 'describe', executionArn })}\n`);
      const answer = await next('answering');
      assert.ok(answer.ok, `DescribeExecution ${executionArn}: ${JSON.stringify(answer)}`);
      return answer.ok;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.stdin.end();
      await exited;
    },
  };
}

/** moto prints `startDate` as Python's `str(datetime)`: `2026-01-02 03:04:05.678000+00:00`. */
export const pythonDateMs = (text) => Date.parse(text.replace(' ', 'T'));

/** A name no other test of this run uses: moto's state is shared by the whole file. */
export const unique = (prefix) => `${prefix}-${Date.now()}-${randomBytes(4).toString('hex')}`;

// --- Loopback stand-ins ----------------------------------------------------------------

/** The stand-in's executions: HelloWorld's, whatever state machine a request names. */
const STAND_IN_EXECUTIONS = 'arn:aws:states:us-east-1:123456789012:execution:HelloWorld';

/** The AWS documentation's example key: the stand-in checks no signature. */
const EXAMPLE_KEY = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

/**
 * stand-in.mjs in a worker thread: a StartExecution endpoint on 127.0.0.1 that answers
 * `answerAfterMs` late, once `together` requests are in. `requests` lists what it received,
 * `arrived(n)` resolves once it has received n; `options()` are client options for it;
 * `close()` ends it.
 */
export async function startStandIn({ answerAfterMs = 0, together = 1 } = {}) {
  const worker = new Worker(new URL('./stand-in.mjs', import.meta.url), {
    workerData: { answerAfterMs, together, executions: STAND_IN_EXECUTIONS },
  });
  worker.unref(); // A test that fails before close() must not hang on it.
  const requests = [];
  const waiting = [];
  const port = await new Promise((listening, failed) => {
    worker.on('message', ({ port, request }) => {
      if (port !== undefined) return listening(port);
      requests.push(request);
      for (const waiter of waiting) if (requests.length >= waiter.count) waiter.done();
    });
    worker.once('error', failed);
    worker.once('exit', (code) => failed(new Error(`the stand-in exited with code ${code}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    options: (overrides = {}) => standInOptions(`http://127.0.0.1:${port}`, overrides),
    arrived: (count) =>
      new Promise((done) => (requests.length >= count ? done() : waiting.push({ count, done }))),
    close: () => worker.terminate(),
  };
}

/** Client options for a stand-in with the example key; `overrides` replace any field. */
export const standInOptions = (endpointUrl, overrides = {}) => ({
  credentials: EXAMPLE_KEY,
  endpointUrl,
  useFips: false,
  useDualStack: false,
  ...overrides,
});

/** The ARN the stand-in gives the execution `name`. */
export const standInExecutionArn = (name) => `${STAND_IN_EXECUTIONS}:${name}`;

/** A port on 127.0.0.1 that nothing listens on: bound by the OS, then released. */
export async function closedPort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}
