// ssam-testkit stand-in for the Runtime API client of AWS's nodejs images
// (/var/runtime/index.mjs there). Written for the testkit from the Runtime API's
// documentation, independent of ssam's own Node bootstrap, so that ssam is not tested
// against itself. It loads `$_HANDLER` ("file.export", the file under $LAMBDA_TASK_ROOT,
// .js/.cjs through require, .mjs through import) and then, forever: GET next, call the
// handler (async, or callback style when it takes three arguments), POST the response or
// the error. A failed load is POSTed to init/error and the process exits.
//
// Not emulated: callbackWaitsForEmptyEventLoop (the answer goes as soon as the callback is
// called), response streaming, context.clientContext and context.identity.
'use strict';

const http = require('http');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const BASE = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

let currentRequestId;

function call(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const [host, port] = API.split(':');
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      {
        host,
        port,
        method,
        path: urlPath,
        agent,
        headers: Object.assign(
          data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
          headers || {}
        ),
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) })
        );
        res.on('error', reject);
      }
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

function errorDoc(err, fallbackType) {
  if (err instanceof Error) {
    return {
      errorType: err.name || fallbackType,
      errorMessage: err.message,
      trace: String(err.stack || '').split('\n'),
    };
  }
  return { errorType: fallbackType, errorMessage: String(err), trace: [] };
}

function postError(urlPath, doc) {
  return call('POST', urlPath, JSON.stringify(doc), {
    'Lambda-Runtime-Function-Error-Type': doc.errorType,
  });
}

// Log lines as Lambda's Node runtime writes them: time, request id, level, message.
for (const [method, level] of [
  ['log', 'INFO'],
  ['info', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['debug', 'DEBUG'],
]) {
  const stream = level === 'ERROR' || level === 'WARN' ? process.stderr : process.stdout;
  console[method] = (...args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t${util.format(...args)}`;
    stream.write(line.replace(/\n/g, '\r') + '\n');
  };
}

async function loadHandler(spec) {
  const root = process.env.LAMBDA_TASK_ROOT || '/var/task';
  const slash = spec.lastIndexOf('/');
  const dot = spec.indexOf('.', slash + 1);
  if (dot < 0) {
    const e = new Error(`Bad handler ${spec}: expected FILE.FUNCTION`);
    e.name = 'Runtime.MalformedHandlerName';
    throw e;
  }
  const file = spec.slice(0, dot);
  const names = spec.slice(dot + 1).split('.');
  let mod;
  const fs = require('fs');
  const found = ['.js', '.cjs', '.mjs']
    .map((ext) => path.resolve(root, file + ext))
    .find((p) => fs.existsSync(p));
  try {
    if (!found) {
      throw Object.assign(new Error(`Cannot find module '${file}'`), { code: 'MODULE_NOT_FOUND' });
    }
    mod = found.endsWith('.mjs') ? await import(pathToFileURL(found).href) : require(found);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') {
      const e = new Error(`Error: Cannot find module '${file}'`);
      e.name = 'Runtime.ImportModuleError';
      throw e;
    }
    throw err;
  }
  let fn = mod;
  for (const n of names) fn = fn == null ? undefined : fn[n];
  if (typeof fn !== 'function') {
    const e = new Error(`${spec} is undefined or not exported`);
    e.name = 'Runtime.HandlerNotFound';
    throw e;
  }
  return fn;
}

function context(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

function invoke(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    if (handler.length >= 3) {
      handler(event, ctx, (err, result) => (err ? reject(err) : resolve(result)));
      return;
    }
    Promise.resolve()
      .then(() => handler(event, ctx))
      .then(resolve, reject);
  });
}

async function main() {
  if (!API) {
    process.stderr.write('AWS_LAMBDA_RUNTIME_API is not set\n');
    process.exit(1);
  }
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || '');
  } catch (err) {
    const doc = errorDoc(err, 'Runtime.UserCodeSyntaxError');
    console.error(JSON.stringify(doc));
    await postError(`${BASE}/init/error`, doc);
    process.exit(1);
  }
  process.on('unhandledRejection', async (reason) => {
    const doc = errorDoc(reason, 'Runtime.UnhandledPromiseRejection');
    doc.errorType = 'Runtime.UnhandledPromiseRejection';
    console.error(JSON.stringify(doc));
    if (currentRequestId) {
      await postError(`${BASE}/invocation/${currentRequestId}/error`, doc).catch(() => {});
    }
    process.exit(128);
  });
  for (;;) {
    const next = await call('GET', `${BASE}/invocation/next`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    if (next.headers['lambda-runtime-trace-id']) {
      process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }
    let posted;
    try {
      const event = JSON.parse(next.body.toString() || 'null');
      const result = await invoke(handler, event, context(next.headers));
      const body = JSON.stringify(result === undefined ? null : result);
      posted = call('POST', `${BASE}/invocation/${id}/response`, body);
    } catch (err) {
      const doc = errorDoc(err, 'Error');
      console.error(`Invoke Error \t${JSON.stringify(doc)}`);
      posted = postError(`${BASE}/invocation/${id}/error`, doc);
    }
    await posted;
  }
}

main().catch((err) => {
  process.stderr.write(`runtime client failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
