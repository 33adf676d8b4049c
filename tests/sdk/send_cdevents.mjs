// tests/sdk/send_cdevents.mjs: deliver CDEvents to cdlens with the official CloudEvents
// JavaScript SDK (npm "cloudevents"), in binary and in structured mode, and check every answer.
//
//   node send_cdevents.mjs --url http://127.0.0.1:8080 --token SECRET [--data DIR]
//   (or CDLENS_SDK_URL, CDLENS_SDK_TOKEN, CDLENS_SDK_DATA; --unicode-source / CDLENS_SDK_UNICODE_SOURCE)
//
// Every CDEvent in DIR (default: the 0.5.1 conformance examples) is sent twice, each time with a
// fresh context.id: once in binary mode and once in structured mode. One more event, whose
// context.source holds non-ASCII text, is sent in both modes too. Two SDK paths are used,
// alternating from file to file so that each mode goes through both:
//   "message": HTTP.binary(ce) / HTTP.structured(ce) build the headers and body, fetch() posts them;
//   "emitter": emitterFor(httpTransport(url), {mode}) posts them itself (Node's http module,
//              chunked body); the bearer token goes in the emitter's per-call options.headers.
// Success is 202 with {"accepted":1,"duplicates":0}. The SDK's httpTransport does not expose the
// status code, so on that path the JSON success body (cdlens answers errors with
// application/problem+json) stands for it.
//
// Prints one line per failure (request and response) and, last, "sdk: N passed, M failed".
// Exits 1 if anything failed, 2 on bad usage.

import { readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import { randomUUID } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CloudEvent, HTTP, Mode, emitterFor, httpTransport } from "cloudevents";

const here = dirname(fileURLToPath(import.meta.url));
const TIMEOUT_MS = 15000;
// 2-, 3- and 4-byte UTF-8 sequences and a space: all need percent-encoding in a ce-* header.
const DEFAULT_UNICODE_SOURCE = "/event/source/ünïcødé 日本語 €😀";

function usage(msg) {
  console.error(`send_cdevents.mjs: ${msg}`);
  console.error("usage: node send_cdevents.mjs --url BASE_URL --token TOKEN [--data DIR] [--unicode-source S]");
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    url: process.env.CDLENS_SDK_URL,
    token: process.env.CDLENS_SDK_TOKEN,
    data: process.env.CDLENS_SDK_DATA || join(here, "..", "data", "cdevents-spec", "0.5.1", "conformance"),
    unicodeSource: process.env.CDLENS_SDK_UNICODE_SOURCE || DEFAULT_UNICODE_SOURCE,
  };
  const names = { "--url": "url", "--token": "token", "--data": "data", "--unicode-source": "unicodeSource" };
  for (let i = 0; i < argv.length; i++) {
    const key = names[argv[i]];
    if (!key) usage(`unknown argument ${JSON.stringify(argv[i])}`);
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    opts[key] = argv[++i];
  }
  if (!opts.url) usage("no base URL (--url or CDLENS_SDK_URL)");
  if (!opts.token) usage("no token (--token or CDLENS_SDK_TOKEN)");
  return opts;
}

// The ingest endpoint for a base URL such as http://127.0.0.1:8080 (a full endpoint URL is kept).
function endpointFor(base) {
  const u = new URL(base);
  if (!u.pathname.endsWith("/api/v1/events")) u.pathname = u.pathname.replace(/\/+$/, "") + "/api/v1/events";
  return u.toString();
}

// CloudEvents HTTP binding 1.0, 3.1.3.2: space, double-quote, percent and every character outside
// U+0021-U+007E are sent as the %XX of their UTF-8 bytes.
function percentEncodeHeaderValue(value) {
  let out = "";
  for (const ch of String(value)) { // for..of walks code points, so surrogate pairs stay whole
    const cp = ch.codePointAt(0);
    if (cp >= 0x21 && cp <= 0x7e && ch !== '"' && ch !== "%") out += ch;
    else for (const b of Buffer.from(ch, "utf8")) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

// The SDK (cloudevents 9.0.0 / 10.0.0: headersFor() uses a pass-through parser) does not
// percent-encode ce-* header values. Encode the ones that need it and say so; a value that is
// already plain printable ASCII is left exactly as the SDK made it.
function encodeCeHeaders(headers, notes) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    const enc = name.toLowerCase().startsWith("ce-") ? percentEncodeHeaderValue(value) : value;
    if (enc !== value) notes.push(`SDK left ${name} unencoded (${JSON.stringify(value)}); sent percent-encoded: ${enc}`);
    out[name] = enc;
  }
  return out;
}

function needsEncoding(headers) {
  return Object.entries(headers).some(
    ([name, value]) => name.toLowerCase().startsWith("ce-") && percentEncodeHeaderValue(value) !== value,
  );
}

function withTimeout(promise, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// POST headers+body; resolves {status, headers, body}. fetch() when the runtime has it (Node 18+),
// else node:http with a Content-Length.
async function post(url, headers, body) {
  if (typeof fetch === "function") {
    const res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  }
  return withTimeout(new Promise((resolvePost, reject) => {
    const buf = Buffer.from(body, "utf8");
    const req = http.request(url, { method: "POST", headers: { ...headers, "content-length": buf.length } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolvePost({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(buf);
  }), "POST");
}

function isSuccessBody(text) {
  try {
    const j = JSON.parse(text);
    return j !== null && typeof j === "object" && j.accepted === 1 && j.duplicates === 0;
  } catch {
    return false;
  }
}

function redact(headers) {
  const out = { ...headers };
  for (const k of Object.keys(out)) if (k.toLowerCase() === "authorization") out[k] = "Bearer <redacted>";
  return out;
}

function clip(s, n = 3000) {
  s = String(s);
  return s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s;
}

// A CloudEvent carrying `cdevent`, its id/source/type/time copied from the CDEvent context.
function cloudEventFor(cdevent, withDataContentType) {
  const attrs = {
    specversion: "1.0",
    id: cdevent.context.id,
    source: cdevent.context.source,
    type: cdevent.context.type,
    time: cdevent.context.timestamp,
    data: cdevent,
  };
  // Half the events name their data type; the others rely on the SDK's defaults
  // (binary: "Content-Type: application/json; charset=utf-8"; structured: no datacontenttype).
  if (withDataContentType) attrs.datacontenttype = "application/json";
  try {
    return { ce: new CloudEvent(attrs), strict: true };
  } catch (e) {
    // The SDK validates source as an RFC 3986 URI-reference; a non-ASCII source is an IRI, so
    // it is refused in strict mode. The SDK's non-strict mode (second argument false) builds it.
    return { ce: new CloudEvent(attrs, false), strict: false, why: e.message.split("\n").join(" ") };
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const url = endpointFor(opts.url);
  const auth = { Authorization: `Bearer ${opts.token}` };
  const emitters = {
    [Mode.BINARY]: emitterFor(httpTransport(url), { mode: Mode.BINARY }),
    [Mode.STRUCTURED]: emitterFor(httpTransport(url), { mode: Mode.STRUCTURED }),
  };

  const files = readdirSync(opts.data).filter((f) => f.endsWith(".json")).sort();
  if (files.length === 0) usage(`no *.json files in ${opts.data}`);
  const jobs = [];
  files.forEach((file, i) => {
    const cdevent = JSON.parse(readFileSync(join(opts.data, file), "utf8"));
    const paths = i % 2 === 0 ? ["message", "emitter"] : ["emitter", "message"];
    jobs.push({ label: file, cdevent, mode: Mode.BINARY, path: paths[0], dct: i % 2 === 0 });
    jobs.push({ label: file, cdevent, mode: Mode.STRUCTURED, path: paths[1], dct: i % 2 === 1 });
  });
  // The non-ASCII source: in binary mode through HTTP.binary (its ce-source header needs
  // percent-encoding, see encodeCeHeaders), in structured mode through the emitter.
  const base = JSON.parse(readFileSync(join(opts.data, files.includes("service_deployed.json") ? "service_deployed.json" : files[0]), "utf8"));
  base.context.source = opts.unicodeSource;
  jobs.push({ label: "unicode-source", cdevent: base, mode: Mode.BINARY, path: "message", dct: true });
  jobs.push({ label: "unicode-source", cdevent: base, mode: Mode.STRUCTURED, path: "emitter", dct: true });

  let passed = 0;
  let failed = 0;
  const perMode = { [Mode.BINARY]: 0, [Mode.STRUCTURED]: 0 };
  for (const job of jobs) {
    const cdevent = structuredClone(job.cdevent);
    cdevent.context.id = `sdk-${job.mode}-${randomUUID()}`;
    const what = `${job.mode}/${job.path} ${job.label} (id ${cdevent.context.id})`;
    const notes = [];
    let request = null;
    let response = null;
    let ok = false;
    try {
      const { ce, strict, why } = cloudEventFor(cdevent, job.dct);
      if (!strict) notes.push(`SDK refused the event in strict mode (${why}); built with strict=false`);
      if (job.path === "message") {
        const msg = job.mode === Mode.BINARY ? HTTP.binary(ce) : HTTP.structured(ce);
        const headers = { ...encodeCeHeaders(msg.headers, notes), ...auth };
        request = { headers, body: msg.body };
        response = await post(url, headers, msg.body);
        ok = response.status === 202 && isSuccessBody(response.body);
      } else {
        const msg = job.mode === Mode.BINARY ? HTTP.binary(ce) : HTTP.structured(ce);
        request = { headers: { ...msg.headers, ...auth }, body: msg.body }; // what the emitter sends
        if (needsEncoding(msg.headers)) throw new Error("emitter path cannot percent-encode ce-* headers; use the message path");
        const res = await withTimeout(emitters[job.mode](ce, { headers: auth }), "emitter");
        response = { status: "(not exposed by httpTransport)", headers: res.headers, body: res.body };
        const ctype = String(res.headers?.["content-type"] || "");
        ok = isSuccessBody(res.body) && ctype.startsWith("application/json");
      }
    } catch (e) {
      notes.push(`error: ${e && e.stack ? e.stack : e}`);
    }
    for (const n of notes) console.log(`note: ${what}: ${n}`);
    if (ok) {
      passed++;
      perMode[job.mode]++;
    } else {
      failed++;
      console.log(`FAIL ${what}`);
      if (request) {
        console.log(`  request headers: ${JSON.stringify(redact(request.headers))}`);
        console.log(`  request body: ${clip(request.body)}`);
      }
      if (response) {
        console.log(`  response status: ${response.status}`);
        console.log(`  response headers: ${JSON.stringify(response.headers)}`);
        console.log(`  response body: ${clip(response.body)}`);
      }
    }
  }
  console.log(`sdk: endpoint ${url}; cloudevents SDK ${sdkVersion()}; binary ${perMode[Mode.BINARY]}, structured ${perMode[Mode.STRUCTURED]} accepted`);
  console.log(`sdk: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed === jobs.length ? 0 : 1);
}

function sdkVersion() {
  try {
    return JSON.parse(readFileSync(resolve(here, "node_modules", "cloudevents", "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

main().catch((e) => {
  console.log(`FAIL unexpected error: ${e && e.stack ? e.stack : e}`);
  console.log("sdk: 0 passed, 1 failed");
  process.exit(1);
});
