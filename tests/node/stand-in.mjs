// A loopback StartExecution stand-in, run by helpers.mjs in a worker thread of its own, so
// that it answers even while the thread that started it is blocked (as jco's calls block
// it). It answers every request with a valid StartExecution response:
//   200 {"executionArn":"<executions>:<name>","startDate":1.7E9},
//   x-amzn-RequestId: stand-in-<n> (n counts requests from 1).
// It holds requests until `together` of them are in, then answers them `answerAfterMs`
// later. It posts `{ port }` once listening, then `{ request: { n, target, name } }` for
// each request.

import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { answerAfterMs, together, executions } = workerData;
const BODY_LIMIT = 64 * 1024; // StartExecution bodies are far smaller; a bigger one is a bug.

let received = 0;
const held = [];

const server = createServer(async (request, response) => {
  const n = ++received;
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > BODY_LIMIT) return request.destroy();
    chunks.push(chunk);
  }
  const { name } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  parentPort.postMessage({ request: { n, target: request.headers['x-amz-target'], name } });
  held.push(() => {
    response.writeHead(200, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': `stand-in-${n}`,
    });
    response.end(`{"executionArn":"${executions}:${name}","startDate":1.7E9}`);
  });
  if (held.length >= together) {
    for (const answer of held.splice(0)) setTimeout(answer, answerAfterMs);
  }
});

server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
