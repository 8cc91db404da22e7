// The sfn:action component for Node.js, with calls that never block the event loop.
//
// jco's output runs `start` synchronously: preview2-shim sends the request from its own
// worker and waits on it with Atomics, so the caller's thread stops for the whole request.
// Here each call runs in a worker thread that holds its own instance of the component, and
// the caller gets a Promise. Records are exactly jco's: camelCase fields, `option<T>` as the
// value or `undefined`, `s64`/`u64` as bigint, variants as `{ tag, val }`.
//
//   import { open } from './sfn-action.mjs';
//   const module = new URL('./sfn-action/sfn_start_execution.js', import.meta.url);
//   const sfn = open({ module, env: { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } });
//   const { executionArn } = await sfn.start(config, options);
//   await sfn.close();
//
// A call's only deadlines are the component's (`timeoutMs`, `maxWaitMs`, and each attempt's
// own). Under preview2-shim 0.26.1 its connect timeout (10 s) also bounds the wait for an
// answer's head, since the shim makes it a socket idle timeout: an answer later than that
// fails as `timed out connecting`, which the component takes for a request never sent.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';

const WORKER = new URL('./worker.mjs', import.meta.url);
const SHIM = '@bytecodealliance/preview2-shim/instantiation';

/**
 * The `err` of a function's `result`: the same `.payload` that jco's ComponentError carries.
 * For `validate`, the list of `{ field, message }`; for `prepare` and `prepareSync`, the
 * `error` variant `{ tag, val }`; for the others, the `failure` record
 * `{ error, attempts, maybeStarted }`.
 */
export class SfnError extends Error {
  /**
   * @param {string} method the function that failed, such as `start`
   * @param {unknown} payload the `err` value, as jco gives it
   */
  constructor(method, payload) {
    super(`${method}: ${summary(payload)}`);
    this.name = 'SfnError';
    this.payload = payload;
  }
}

/** One line for an error's message; the payload has every detail. */
function summary(payload) {
  if (Array.isArray(payload)) return `invalid config: ${fieldErrors(payload)}`;
  if ('tag' in payload) return errorText(payload);
  return `${errorText(payload.error)} (requests sent: ${payload.attempts})`;
}

function errorText({ tag, val }) {
  if (tag === 'invalid-config') return `invalid config: ${fieldErrors(val)}`;
  if (tag === 'service') return `${val.code} (HTTP ${val.status}): ${val.message}`;
  return `${tag}: ${val}`;
}

const fieldErrors = (list) => list.map(({ field, message }) => `${field} ${message}`).join('; ');

/**
 * Opens the component transpiled by `jco transpile --instantiation async`. Nothing starts
 * yet: each call takes an idle worker, or starts one while fewer than `workers` exist, or
 * waits in a queue (unbounded, first come first served) for one to be free. A worker runs
 * one call at a time, so at most `workers` calls are in flight; a `wait` holds its worker
 * until it returns. Idle workers do not keep the process alive.
 *
 * @param {object} settings
 * @param {string | URL} settings.module the `.js` file jco wrote (a path or a file URL)
 * @param {Record<string, string | undefined>} [settings.env] the component's environment
 *   (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL_SFN`, ...); empty by default, never
 *   `process.env` unless passed; `undefined` values are left out
 * @param {number} [settings.workers] the most worker threads, 4 by default
 * @param {string | URL} [settings.shim] preview2-shim's `instantiation` entry, for when
 *   `@bytecodealliance/preview2-shim` cannot be imported from this file's folder:
 *   `import.meta.resolve('@bytecodealliance/preview2-shim/instantiation')`
 * @returns {object} the functions of `start-execution` and `close`. Each function returns a
 *   Promise of what jco's returns, rejected with an SfnError for the `result`'s `err`, or
 *   with an Error when the call did not run to its end (an argument of the wrong type, a
 *   trap, a worker that died, a closed client).
 */
export function open({ module, env = {}, workers = 4, shim } = {}) {
  const moduleUrl = fileUrl(module, 'module');
  if (!existsSync(fileURLToPath(moduleUrl))) {
    throw new Error(
      `${fileURLToPath(moduleUrl)} does not exist: transpile the component with ` +
        '`jco transpile sfn_start_execution.wasm --instantiation async -o DIR`',
    );
  }
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`workers must be a positive integer, got ${workers}`);
  }
  const environment = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new TypeError(`env.${name} must be a string`);
    environment[name] = value;
  }
  const pool = new Pool(workers, {
    module: moduleUrl.href,
    shim: shim === undefined ? defaultShim() : fileUrl(shim, 'shim').href,
    env: environment,
  });
  return {
    /** Checks the arguments, without I/O: resolves to `undefined`. */
    validate: (config) => pool.run('validate', [config]),
    /** The signed StartExecution request, not sent: the `signed-request`. */
    prepare: (config, options) => pool.run('prepare', [config, options]),
    /** The signed StartSyncExecution request, not sent: the `signed-request`. */
    prepareSync: (config, options) => pool.run('prepareSync', [config, options]),
    /** Starts an execution: the `execution`. */
    start: (config, options) => pool.run('start', [config, options]),
    /** Runs an EXPRESS state machine to its end: the `outcome`. */
    startSync: (config, options) => pool.run('startSync', [config, options]),
    /** DescribeExecution once: the `outcome`. */
    describe: (executionArn, options) => pool.run('describe', [executionArn, options]),
    /** Polls until the execution ends or `maxWaitMs` (a bigint) passes: the `outcome`. */
    wait: (executionArn, options, maxWaitMs) =>
      pool.run('wait', [executionArn, options, maxWaitMs]),
    /**
     * Rejects the queued calls and any later one, lets the calls in flight finish (each is
     * bounded by its own `timeoutMs` or `maxWaitMs`), then ends the workers. Resolves
     * once every worker has exited.
     */
    close: () => pool.close(),
  };
}

/** Worker threads, started when calls need them, up to `size`; calls wait in `#queue`. */
class Pool {
  #size;
  #workerData;
  #idle = [];
  /** Every live worker, to the Promise of its exit. */
  #exits = new Map();
  /** Each busy worker, to its call `{ method, args, resolve, reject }`. */
  #busy = new Map();
  #queue = [];
  #closed = false;

  constructor(size, workerData) {
    this.#size = size;
    this.#workerData = workerData;
  }

  run(method, args) {
    if (this.#closed) return Promise.reject(closedError(method));
    return new Promise((resolve, reject) => {
      this.#queue.push({ method, args, resolve, reject });
      this.#dispatch();
    });
  }

  close() {
    if (!this.#closed) {
      this.#closed = true;
      for (const call of this.#queue.splice(0)) call.reject(closedError(call.method));
      for (const worker of this.#idle.splice(0)) worker.terminate();
    }
    return Promise.all(this.#exits.values()).then(() => undefined);
  }

  #dispatch() {
    while (this.#queue.length > 0) {
      const room = this.#exits.size < this.#size;
      const worker = this.#idle.pop() ?? (room ? this.#spawn() : undefined);
      if (worker === undefined) return;
      const call = this.#queue.shift();
      try {
        worker.postMessage({ method: call.method, args: call.args });
      } catch (error) {
        // An argument structured clone cannot copy (a function, a symbol...): nothing sent.
        call.reject(error);
        this.#idle.push(worker);
        continue;
      }
      this.#busy.set(worker, call);
      worker.ref(); // A call in flight keeps the process alive, as pending I/O does.
    }
  }

  #spawn() {
    const worker = new Worker(WORKER, {
      workerData: this.#workerData,
      name: 'sfn-action',
      execArgv: [], // The caller's flags (--input-type, --eval, ...) are not the worker's.
    });
    this.#exits.set(worker, new Promise((exited) => worker.once('exit', exited)));
    worker.on('message', (reply) => this.#answer(worker, reply));
    worker.on('error', (error) => {
      this.#fail(worker, `its worker failed: ${error?.message ?? inspect(error)}`, error);
    });
    worker.on('exit', (code) => {
      this.#fail(worker, `its worker exited (code ${code}) before the call returned`);
      this.#exits.delete(worker);
      this.#idle = this.#idle.filter((w) => w !== worker);
      this.#dispatch(); // Its place in the pool is free for a queued call.
    });
    // Only a call in flight keeps the process alive. After on('message'), which refs again.
    worker.unref();
    return worker;
  }

  #answer(worker, reply) {
    const call = this.#busy.get(worker);
    if (call === undefined) return; // Already failed by the worker's 'error' or 'exit'.
    this.#busy.delete(worker);
    if ('fault' in reply) {
      // The instance may be broken (a trap poisons it): this worker takes no more calls.
      const { name, message, stack } = reply.fault;
      const cause = Object.assign(new Error(message), { name, stack });
      const error = new Error(`${call.method}: ${name}: ${message} (its worker was replaced)`, {
        cause,
      });
      call.reject(error);
      worker.terminate();
      return;
    }
    if ('payload' in reply) call.reject(new SfnError(call.method, reply.payload));
    else call.resolve(reply.value);
    if (this.#closed) {
      worker.terminate();
    } else {
      worker.unref(); // Idle: the process may exit without close().
      this.#idle.push(worker);
      this.#dispatch();
    }
  }

  #fail(worker, why, cause) {
    const call = this.#busy.get(worker);
    if (call === undefined) return;
    this.#busy.delete(worker);
    const starts = call.method === 'start' || call.method === 'startSync';
    const maybe = starts ? '; the request it sent may have started an execution' : '';
    call.reject(new Error(`${call.method}: ${why}${maybe}`, { cause }));
  }
}

function closedError(method) {
  return new Error(`${method}: the sfn-action client is closed`);
}

/** A path or a URL, as a file URL. */
function fileUrl(value, what) {
  if (value instanceof URL) return value;
  if (typeof value !== 'string') throw new TypeError(`${what} must be a path or a file URL`);
  return value.startsWith('file:') ? new URL(value) : pathToFileURL(resolve(value));
}

/** preview2-shim as this file's folder resolves it, as a user's project installs it. */
function defaultShim() {
  try {
    return import.meta.resolve(SHIM);
  } catch (error) {
    throw new Error(
      `cannot find ${SHIM} from ${fileURLToPath(new URL('.', import.meta.url))}: install ` +
        '@bytecodealliance/preview2-shim where this file is, or pass its location as `shim`',
      { cause: error },
    );
  }
}
