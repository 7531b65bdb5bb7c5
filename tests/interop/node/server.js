// HTTP/2 server on Node's built-in http2 module, a peer for h2lite's client.
//
//   node server.js [--port N] [--cert FILE --key FILE]
//
// Listens on 127.0.0.1 (cleartext h2c with prior knowledge, or TLS with ALPN
// h2 when --cert/--key are given) and prints "PORT <n>" once it listens.
// Routes:
//   GET  /bytes/<n>  n bytes, byte i being i % 251 (content-length set)
//   POST /echo       the request body, sent back once it has all arrived
//   GET  /trailers   "body\n" followed by the trailer x-body-length: 5
//   GET  /push       pushes /pushed.txt ("pushed body\n"), then answers "page\n"
// Anything else is 404.
'use strict';

const fs = require('node:fs');
const http2 = require('node:http2');

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

function pattern(length) {
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = i % 251;
  return body;
}

function onStream(stream, headers) {
  const method = headers[':method'];
  const path = headers[':path'];
  stream.on('error', () => {}); // a reset from the peer is not the server's failure

  if (path === '/echo') {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      stream.respond({
        ':status': 200,
        'content-type': headers['content-type'] || 'application/octet-stream',
        'content-length': body.length,
      });
      stream.end(body);
    });
    return;
  }
  stream.resume(); // drain any request body we do not use
  const sized = /^\/bytes\/(\d+)$/.exec(path);
  if (method === 'GET' && sized) {
    const body = pattern(Number(sized[1]));
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': body.length });
    stream.end(body);
  } else if (method === 'GET' && path === '/trailers') {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-body-length': '5' }));
    stream.end('body\n');
  } else if (method === 'GET' && path === '/push') {
    if (stream.pushAllowed) {
      stream.pushStream({ ':path': '/pushed.txt' }, (err, push) => {
        if (err) return;
        push.on('error', () => {});
        push.respond({ ':status': 200, 'content-type': 'text/plain' });
        push.end('pushed body\n');
      });
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('page\n');
  } else {
    stream.respond({ ':status': 404, 'content-type': 'text/plain' });
    stream.end('not found\n');
  }
}

const cert = option('--cert', null);
const key = option('--key', null);
const server = cert
  ? http2.createSecureServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) })
  : http2.createServer();
server.on('stream', onStream);
server.on('sessionError', () => {});
server.listen(Number(option('--port', '0')), '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
