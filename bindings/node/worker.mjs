// One instance of the component, in a worker thread that sfn-action.mjs started. It runs one
// call at a time: the call blocks this thread (preview2-shim's HTTP is synchronous), never
// the caller's.
//
// Each message is `{ method, args }`; each reply is one of
//   { value }    what the function returned;
//   { payload }  the `err` of its `result`, from jco's ComponentError (whose class does
//                not survive postMessage: sfn-action.mjs rebuilds an SfnError);
//   { fault }    anything else thrown (a trap, a bad argument type, a failed load), as
//                `{ name, message, stack }`: sfn-action.mjs then retires this worker.

import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';

/** `module` and `shim` are file URLs; `env` is the component's whole environment. */
const { module, shim, env } = workerData;

async function load() {
  const [{ WASIShim }, { instantiate }] = await Promise.all([import(shim), import(module)]);
  // The core modules jco wrote beside its .js file.
  const compile = async (file) => WebAssembly.compile(await readFile(new URL(file, module)));
  const root = await instantiate(compile, new WASIShim({ sandbox: { env } }).getImportObject());
  return root.startExecution;
}

const component = load().catch((error) => {
  throw new Error(`cannot load the component ${module}: ${error.message}`, { cause: error });
});
// A failed load is reported to the first call, which awaits it: not an unhandled rejection.
component.catch(() => {});

const fault = (error) => ({
  fault: { name: error?.name, message: String(error?.message ?? error), stack: error?.stack },
});

parentPort.on('message', async ({ method, args }) => {
  let reply;
  try {
    reply = { value: (await component)[method](...args) };
  } catch (error) {
    const isResult = error !== null && typeof error === 'object' && Object.hasOwn(error, 'payload');
    reply = isResult ? { payload: error.payload } : fault(error);
  }
  try {
    parentPort.postMessage(reply);
  } catch (error) {
    // A value structured clone cannot copy: say so rather than die with an unclear error.
    parentPort.postMessage(fault(error));
  }
});
