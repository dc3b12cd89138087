// ssam's Node.js runtime bootstrap, written into ssam's cache dir and run as `node bootstrap.js`.
// It talks to the Lambda Runtime API in AWS_LAMBDA_RUNTIME_API and behaves like AWS's Node
// runtime: handler resolution (CommonJS and ES modules), async and callback handlers, the
// context object, `{errorType, errorMessage, trace}` errors, console lines with the request
// id, and `awslambda.streamifyResponse` for response streaming.
"use strict";

const http = require("http");
const path = require("path");
const fs = require("fs");
const util = require("util");
const { Writable } = require("stream");
const { pathToFileURL } = require("url");

const API = process.env.AWS_LAMBDA_RUNTIME_API || "127.0.0.1:9001";
const [HOST, PORT] = (() => {
  const i = API.lastIndexOf(":");
  return [API.slice(0, i) || "127.0.0.1", Number(API.slice(i + 1))];
})();
const PREFIX = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const STREAM = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";

let currentRequestId = "";
// The invocation in hand; `answered` once its response or error has been posted (by the
// main loop, or by the unhandled-rejection handler, whichever comes first).
let current = { id: null, answered: true };

function request(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: PORT, method, path: urlPath, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      }
    );
    req.on("error", reject);
    req.end(body);
  });
}

class FaultError extends Error {
  constructor(errorType, message, trace) {
    super(message);
    this.errorType = errorType;
    this.trace = trace;
  }
}

function toErrorJson(err) {
  if (err instanceof FaultError) {
    return { errorType: err.errorType, errorMessage: err.message, trace: err.trace || [] };
  }
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: typeof err.stack === "string" ? err.stack.split("\n") : [],
    };
  }
  let message;
  try {
    message = typeof err === "string" ? err : JSON.stringify(err);
  } catch (_) {
    message = String(err);
  }
  return { errorType: typeof err === "string" ? "string" : "object", errorMessage: message, trace: [] };
}

function patchConsole() {
  const write = (level) => (...args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${level}\t${util.format(...args)}\n`;
    (level === "ERROR" || level === "WARN" ? process.stderr : process.stdout).write(line);
  };
  console.log = write("INFO");
  console.info = write("INFO");
  console.warn = write("WARN");
  console.error = write("ERROR");
  console.debug = write("DEBUG");
  console.trace = write("TRACE");
}

function logError(json) {
  const line = `${new Date().toISOString()}\t${currentRequestId || "undefined"}\tERROR\t${JSON.stringify(json)}\n`;
  process.stderr.write(line);
}

async function loadHandler(handlerString) {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const slash = handlerString.lastIndexOf("/");
  const dir = slash >= 0 ? handlerString.slice(0, slash + 1) : "";
  const rest = slash >= 0 ? handlerString.slice(slash + 1) : handlerString;
  const parts = rest.split(".");
  if (parts.length < 2 || !parts[0] || !parts[1]) {
    throw new FaultError("Runtime.MalformedHandlerName", `Bad handler ${handlerString}`);
  }
  const moduleName = parts[0];
  const handlerPath = parts.slice(1);
  const base = path.resolve(taskRoot, dir, moduleName);
  let mod;
  try {
    const candidates = [".js", ".mjs", ".cjs"].map((ext) => base + ext).filter((f) => fs.existsSync(f));
    const file = candidates[0];
    if (!file) {
      if (fs.existsSync(base)) {
        mod = require(base);
      } else {
        const e = new Error(`Cannot find module '${dir}${moduleName}'`);
        e.code = "MODULE_NOT_FOUND";
        throw e;
      }
    } else if (file.endsWith(".mjs")) {
      mod = await import(pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e && e.code === "ERR_REQUIRE_ESM") {
          mod = await import(pathToFileURL(file).href);
        } else {
          throw e;
        }
      }
    }
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new FaultError("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`, String(e.stack || "").split("\n"));
    }
    if (e && e.code === "MODULE_NOT_FOUND") {
      throw new FaultError("Runtime.ImportModuleError", `Error: ${e.message}`, String(e.stack || "").split("\n"));
    }
    throw e;
  }
  let fn = mod;
  for (const key of handlerPath) {
    fn = fn == null ? undefined : fn[key];
  }
  if (fn === undefined && mod && mod.default) {
    fn = mod.default;
    for (const key of handlerPath) {
      fn = fn == null ? undefined : fn[key];
    }
  }
  if (typeof fn !== "function") {
    throw new FaultError("Runtime.HandlerNotFound", `${moduleName}.${handlerPath.join(".")} is undefined or not exported`);
  }
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const parse = (h) => {
    if (!h) return undefined;
    try {
      return JSON.parse(h);
    } catch (_) {
      return undefined;
    }
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers["lambda-runtime-cognito-identity"]),
    clientContext: parse(headers["lambda-runtime-client-context"]),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

// Run when the event loop is empty (`beforeExit`): a callback's response waiting for it.
let onEmptyEventLoop = null;
process.on("beforeExit", () => {
  const run = onEmptyEventLoop;
  onEmptyEventLoop = null;
  if (run) run();
});

function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    // As AWS's runtime client (CallbackContext.js): a callback's success is sent once the
    // event loop is empty, unless the handler set context.callbackWaitsForEmptyEventLoop to
    // false; errors, and context.done/succeed/fail, are sent at once.
    const callback = (err, result) => {
      if (settled) return;
      if ((err === undefined || err === null) && context.callbackWaitsForEmptyEventLoop) {
        settled = true;
        onEmptyEventLoop = () => setImmediate(() => resolve(result));
        return;
      }
      done(err, result);
    };
    context.done = done;
    context.succeed = (r) => done(null, r);
    context.fail = (e) => done(e || new Error("handled"));
    let ret;
    try {
      ret = handler(event, context, callback);
    } catch (e) {
      done(e);
      return;
    }
    if (ret && typeof ret.then === "function") {
      // An async handler's result is sent as soon as it settles.
      ret.then((r) => done(null, r), (e) => done(e === undefined ? new Error("undefined") : e));
    } else if (handler.length < 3) {
      done(null, ret);
    }
  });
}

function streamInvocation(handler, event, context, requestId) {
  return new Promise((resolve) => {
    const headers = {
      "Lambda-Runtime-Function-Response-Mode": "streaming",
      "Transfer-Encoding": "chunked",
      "Content-Type": "application/octet-stream",
      Trailer: "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
    };
    let req;
    let contentType = null;
    const open = () => {
      if (req) return req;
      if (contentType) headers["Content-Type"] = contentType;
      req = http.request({ host: HOST, port: PORT, method: "POST", agent, headers, path: `${PREFIX}/invocation/${requestId}/response` }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", () => resolve());
      return req;
    };
    const stream = new Writable({
      write(chunk, _enc, cb) {
        open().write(chunk, cb);
      },
      final(cb) {
        open().end();
        cb();
      },
    });
    stream.setContentType = (ct) => {
      contentType = ct;
    };
    const fail = (err) => {
      const json = toErrorJson(err);
      logError(json);
      const r = open();
      r.addTrailers({
        "Lambda-Runtime-Function-Error-Type": json.errorType,
        "Lambda-Runtime-Function-Error-Body": Buffer.from(JSON.stringify(json)).toString("base64"),
      });
      r.end();
    };
    let ret;
    try {
      ret = handler(event, stream, context);
    } catch (e) {
      fail(e);
      return;
    }
    Promise.resolve(ret).then(
      () => {
        if (!stream.writableEnded) stream.end();
      },
      (e) => fail(e)
    );
  });
}

// AWS's runtime client (Errors.js, index.mjs): a rejection nobody handles becomes the
// invocation's error, its message the rejection reason, and the runtime exits.
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
UnhandledPromiseRejection.prototype.name = "Runtime.UnhandledPromiseRejection";

process.on("unhandledRejection", (reason, promise) => {
  let error;
  try {
    error = new UnhandledPromiseRejection(reason, promise);
  } catch (_) {
    // A reason without a string form (a Symbol).
    error = new UnhandledPromiseRejection(String(reason), promise);
  }
  const json = toErrorJson(error);
  process.stderr.write(
    `${new Date().toISOString()}\t${currentRequestId || "undefined"}\tERROR\tUnhandled Promise Rejection \t${JSON.stringify(json)}\n`
  );
  const exit = () => process.exit(128);
  let urlPath;
  if (current.id === null) {
    urlPath = `${PREFIX}/init/error`;
  } else if (!current.answered) {
    current.answered = true;
    urlPath = `${PREFIX}/invocation/${current.id}/error`;
  } else {
    exit();
    return;
  }
  request("POST", urlPath, JSON.stringify(json), {
    "Lambda-Runtime-Function-Error-Type": json.errorType,
    "Content-Type": "application/json",
  }).then(exit, exit);
});

globalThis.awslambda = {
  streamifyResponse(fn) {
    fn[STREAM] = true;
    return fn;
  },
  HttpResponseStream: {
    from(stream, metadata) {
      if (stream.setContentType) stream.setContentType(HTTP_INTEGRATION);
      stream.write(JSON.stringify(metadata || {}));
      stream.write(Buffer.alloc(8));
      return stream;
    },
  },
};

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || "");
  } catch (e) {
    const json = toErrorJson(e);
    logError(json);
    await request("POST", `${PREFIX}/init/error`, JSON.stringify(json), {
      "Lambda-Runtime-Function-Error-Type": json.errorType,
      "Content-Type": "application/json",
    }).catch(() => {});
    process.exit(1);
  }
  for (;;) {
    const next = await request("GET", `${PREFIX}/invocation/next`);
    if (next.status !== 200) {
      process.stderr.write(`runtime API answered /next with ${next.status}; exiting\n`);
      process.exit(1);
    }
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    current = { id: requestId, answered: false };
    if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
    else delete process.env._X_AMZN_TRACE_ID;
    const context = makeContext(next.headers);
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString("utf8")) : {};
    } catch (e) {
      const json = { errorType: "Runtime.UnmarshalError", errorMessage: `Unable to unmarshal input: ${e.message}`, trace: [] };
      logError(json);
      await post(`${PREFIX}/invocation/${requestId}/error`, JSON.stringify(json), json.errorType);
      continue;
    }
    if (handler[STREAM]) {
      await streamInvocation(handler, event, context, requestId);
      current.answered = true;
      continue;
    }
    let result;
    try {
      result = await runHandler(handler, event, context);
    } catch (e) {
      const json = toErrorJson(e);
      logError(json);
      await post(`${PREFIX}/invocation/${requestId}/error`, JSON.stringify(json), json.errorType);
      continue;
    }
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      const json = { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
      logError(json);
      await post(`${PREFIX}/invocation/${requestId}/error`, JSON.stringify(json), json.errorType);
      continue;
    }
    await post(`${PREFIX}/invocation/${requestId}/response`, body, null);
  }
}

async function post(urlPath, body, errorType) {
  if (current.answered) {
    // An unhandled rejection already failed this invocation and the runtime is exiting:
    // ask for no more work.
    return new Promise(() => {});
  }
  current.answered = true;
  const headers = { "Content-Type": "application/json" };
  if (errorType) headers["Lambda-Runtime-Function-Error-Type"] = errorType;
  const res = await request("POST", urlPath, body, headers);
  if (res.status !== 202) {
    // A refused answer (e.g. 413) ends the runtime, as AWS's runtime does.
    process.exit(1);
  }
}

main().catch((e) => {
  process.stderr.write(`bootstrap failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
