// HTTP/2 client on Node's built-in http2 module, a peer for h2lite's server.
//
//   node client.js URL [--ca FILE] [--requests N] [--concurrency C] [--echo-size BYTES]
//
// On one session to URL's origin, makes N GETs of URL's path and N POSTs of
// distinct pseudo-random bodies of BYTES bytes to /echo, at most C at a time.
// Each echo must come back byte for byte. Prints one JSON object:
//   {"protocol": "h2" | "h2c", "gets": [{"status", "length", "sha256"}...],
//    "echo": {"ok": n, "failed": [descriptions]}}
// and exits 0, or 1 with a message on stderr if the session failed.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http2 = require('node:http2');

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const url = new URL(process.argv[2]);
const ca = option('--ca', null);
const requests = Number(option('--requests', '10'));
const concurrency = Number(option('--concurrency', '4'));
const echoSize = Number(option('--echo-size', '100000'));

function request(session, headers, body) {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === null });
    const chunks = [];
    let status = 0;
    stream.on('response', (h) => { status = Number(h[':status']); });
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body !== null) stream.end(body);
  });
}

async function main() {
  const session = http2.connect(url.origin, ca ? { ca: fs.readFileSync(ca) } : {});
  session.on('error', (err) => { console.error(`session error: ${err.message}`); process.exit(1); });
  await new Promise((resolve) => session.once('connect', resolve));

  const jobs = [];
  for (let i = 0; i < requests; i++) {
    jobs.push({ kind: 'get', index: i });
    jobs.push({ kind: 'echo', index: i });
  }
  const gets = new Array(requests);
  const echo = { ok: 0, failed: [] };
  async function worker() {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      if (job.kind === 'get') {
        const r = await request(session, { ':method': 'GET', ':path': url.pathname + url.search }, null);
        gets[job.index] = {
          status: r.status,
          length: r.body.length,
          sha256: crypto.createHash('sha256').update(r.body).digest('hex'),
        };
      } else {
        const sent = crypto.randomBytes(echoSize);
        const r = await request(session, {
          ':method': 'POST', ':path': '/echo', 'content-type': 'application/octet-stream',
        }, sent);
        if (r.status === 200 && sent.equals(r.body)) echo.ok += 1;
        else echo.failed.push(`status ${r.status}, ${r.body.length} of ${sent.length} bytes`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const protocol = session.alpnProtocol;
  session.close();
  process.stdout.write(JSON.stringify({ protocol, gets, echo }) + '\n');
}

main().catch((err) => { console.error(`request failed: ${err.message}`); process.exit(1); });
