// Node: jco's blocking instance against bindings/node's worker-thread API, in one run.
//
//   SFN_JCO_MODULE=... SFN_PEERS_PYTHON=... node tests/bench/node_host.mjs [runs]
//
// Each run is a fresh Node process per side (the sides alternate, a noisy moment lands on
// both), timed from its own start (performance.now()):
//   open         the process's start to its first call (`validate`) answered: Node's boot,
//                the imports, the component's load (in the worker, for the async side);
//   first start  one `start` to the loopback stand-in, right after;
//   next start   the median of 20 more `start`s, one after the other.
// The stand-in (tests/node/stand-in.mjs, in this process) answers at once. The inputs are
// those of the Node tests (tests/node/helpers.mjs), which this script needs to find.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SIDES = ['blocking', 'async'];
const NEXT_STARTS = 20;

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  await parent(Number(process.argv[2] ?? 11));
}

/** One side, once: prints its timings as JSON. */
async function child(side, endpoint) {
  const { ARN, component, openAsync, standInOptions } = await import('../node/helpers.mjs');
  const config = { stateMachineArn: ARN };
  const options = standInOptions(endpoint);
  // Both sides as promises: `await` of jco's plain values costs a microtask, nothing more.
  const sfn = side === 'blocking' ? await component() : openAsync();
  await sfn.validate(config);
  const open = performance.now();
  const first = await sfn.start(config, options);
  const firstStart = performance.now() - open;
  const next = [];
  for (let i = 0; i < NEXT_STARTS; i++) {
    const began = performance.now();
    const { attempts } = await sfn.start(config, options);
    next.push(performance.now() - began);
    if (attempts !== 1) throw new Error(`a start took ${attempts} requests`);
  }
  if (first.attempts !== 1) throw new Error(`the first start took ${first.attempts} requests`);
  await sfn.close?.();
  console.log(JSON.stringify({ open, firstStart, nextStart: median(next) }));
}

/** Runs each side `runs` times, alternating, and prints min and median of each figure. */
async function parent(runs) {
  const { startStandIn } = await import('../node/helpers.mjs');
  const standIn = await startStandIn();
  const run = promisify(execFile);
  const script = fileURLToPath(import.meta.url);
  const results = { blocking: [], async: [] };
  try {
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? SIDES : [...SIDES].reverse();
      for (const side of order) {
        const args = [script, '--child', side, standIn.endpoint];
        const { stdout } = await run(process.execPath, args, { timeout: 120_000 });
        results[side].push(JSON.parse(stdout));
        process.stderr.write('.');
      }
    }
  } finally {
    await standIn.close();
  }
  process.stderr.write('\n');
  console.log(`node ${process.version}, ${runs} runs of each side; min / median in ms`);
  console.log('side       open             first start      next start');
  for (const side of SIDES) {
    const cells = ['open', 'firstStart', 'nextStart'].map((figure) => {
      const values = results[side].map((result) => result[figure]);
      return `${Math.min(...values).toFixed(1)} / ${median(values).toFixed(1)}`.padEnd(17);
    });
    console.log(`${side.padEnd(11)}${cells.join('')}`.trimEnd());
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
