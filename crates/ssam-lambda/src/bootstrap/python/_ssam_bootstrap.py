# ssam's Python runtime bootstrap: stdlib only, written into ssam's cache dir and imported
# by `python3.X -c` (see PYTHON_LOADER in bootstrap.rs) so its bytecode is cached. It talks
# to the Lambda Runtime API in AWS_LAMBDA_RUNTIME_API and behaves like AWS's runtime client (awslambdaric): same handler resolution, context
# object, error JSON and error types. It speaks HTTP/1.1 over a raw socket because
# `http.client` costs ~14 ms of imports, a large share of a cold start.
import json
import os
import _socket
import sys
import time

_API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
_PREFIX = "/2018-06-01/runtime"


class _Conn:
    """A kept-alive HTTP/1.1 connection to the Runtime API, on `_socket` directly: the
    `socket` module's wrapper costs another 1-2 ms of imports."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.addr = (host or "127.0.0.1", int(port))
        self.sock = None
        self.buf = bytearray()

    def _connect(self):
        s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        s.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        s.connect(self.addr)
        self.sock = s
        self.buf = bytearray()

    def _fill(self):
        # Under 128 KB, so the buffer comes from the heap, not a fresh mmap per call.
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed()
        self.buf += chunk

    def _readline(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[: i + 1])
                del self.buf[: i + 1]
                return line
            self._fill()

    def _read(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def request(self, method, path, body=b"", headers=None):
        for attempt in (0, 1):
            if self.sock is None:
                self._connect()
            head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (
                method,
                path,
                _API,
                len(body),
            )
            if headers:
                for k, v in headers.items():
                    head += "%s: %s\r\n" % (k, v)
            try:
                self.sock.sendall(head.encode("latin-1") + b"\r\n" + body)
                return self._read_response()
            except (ConnectionError, _Closed):
                # A kept-alive connection the server closed: reconnect once, but never
                # resend a post, which the server may have acted on.
                self.close()
                if attempt or method != "GET":
                    raise

    def _read_response(self):
        line = self._readline()
        parts = line.split(None, 2)
        status = int(parts[1])
        headers = {}
        while True:
            line = self._readline()
            if line in (b"\r\n", b"\n"):
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self._readline().split(b";")[0], 16)
                if size == 0:
                    while self._readline() not in (b"\r\n", b"\n"):
                        pass
                    break
                body += self._read(size)
                self._readline()
        else:
            body = self._read(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self):
        try:
            if self.sock is not None:
                self.sock.close()
        finally:
            self.sock = None
            self.buf = bytearray()


class _Closed(Exception):
    pass


class FaultException(Exception):
    """An error of the runtime itself (import, handler lookup, (un)marshalling)."""

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]


def _make_identity(raw):
    # Like awslambdaric, always an object: its fields are None without Cognito.
    raw = raw if isinstance(raw, dict) else {}
    identity = CognitoIdentity()
    identity.cognito_identity_id = raw.get("cognitoIdentityId")
    identity.cognito_identity_pool_id = raw.get("cognitoIdentityPoolId")
    return identity


def _make_client_context(raw):
    if raw is None:
        return None
    ctx = ClientContext()
    ctx.custom = raw.get("custom")
    ctx.env = raw.get("env")
    client = raw.get("client")
    if client is not None:
        c = Client()
        c.installation_id = client.get("installation_id")
        c.app_title = client.get("app_title")
        c.app_version_name = client.get("app_version_name")
        c.app_version_code = client.get("app_version_code")
        c.app_package_name = client.get("app_package_name")
        ctx.client = c
    else:
        ctx.client = None
    return ctx


class LambdaContext(object):
    def __init__(self, invoke_id, client_context, cognito_identity, epoch_deadline_time_in_ms, invoked_function_arn=None, tenant_id=None):
        self.aws_request_id = invoke_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = _make_client_context(client_context)
        self.identity = _make_identity(cognito_identity)
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        return max(self._epoch_deadline_time_in_ms - int(round(time.time() * 1000)), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))
        sys.stdout.flush()

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
            "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
            "invoked_function_arn=%s,client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def _stack_trace(tb):
    import traceback

    frames = traceback.extract_tb(tb)
    # The bootstrap's own frames are noise to the user, as in awslambdaric.
    here = os.path.abspath(__file__)
    frames = [f for f in frames if os.path.abspath(f.filename) != here]
    return traceback.format_list(frames)


def _error_result(exc, request_id=""):
    if isinstance(exc, FaultException):
        return {
            "errorMessage": exc.msg,
            "errorType": exc.exception_type,
            "requestId": request_id,
            "stackTrace": exc.trace or [],
        }
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": _stack_trace(exc.__traceback__),
    }


def _log_error(result):
    # Lambda writes the error record to the function's log as well.
    sys.stdout.flush()
    line = "[ERROR] %s: %s" % (result["errorType"], result["errorMessage"])
    trace = result.get("stackTrace") or []
    if trace:
        line += "\nTraceback (most recent call last):\n" + "".join(trace).rstrip("\n")
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, str(e)))
    import importlib

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                "Runtime.BuiltInModuleConflict",
                "Cannot use built-in module %s as a handler module" % modname,
            )
        module = importlib.import_module(modname.replace("/", "."))
    except FaultException:
        raise
    except ImportError as e:
        raise FaultException("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, str(e)))
    except SyntaxError as e:
        import traceback

        trace = ['  File "%s" Line %s\n    %s\n' % (e.filename, e.lineno, (e.text or "").strip())]
        raise FaultException(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (modname, str(e)),
            trace,
        )
    except Exception as e:
        raise FaultException(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': %s" % (modname, str(e)),
            _stack_trace(e.__traceback__),
        )
    try:
        fn = getattr(module, fname)
    except AttributeError:
        raise FaultException("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    if not callable(fn):
        raise FaultException("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    return fn


_request_id = [""]
_logging_ready = [False]


class _LoggingHook(object):
    """Sets up Lambda's root handler the moment anything first imports `logging`, so the
    function's code always finds it there, as under awslambdaric, which installs it before it
    imports the handler module (Powertools' Logger, for one, adds its de-duplication filter to
    the handlers the root logger has when the Logger is made). Importing `logging` up front
    would cost every cold start ~5 ms whether the function logs or not."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        else:
            return None
        # Out of the way before importlib goes on: it returns this spec.
        sys.meta_path.remove(self)
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_then_set_up(module):
            try:
                exec_module(module)
            finally:
                loader.__dict__.pop("exec_module", None)
            _setup_logging()

        loader.exec_module = exec_then_set_up
        return spec


def _set_up_logging_when_imported():
    if "logging" in sys.modules:
        _setup_logging()
    else:
        sys.meta_path.insert(0, _LoggingHook())


def _setup_logging():
    """Installs Lambda's log format on the root logger (awslambdaric's `_setup_logging`)."""
    if _logging_ready[0] or "logging" not in sys.modules:
        return
    _logging_ready[0] = True
    import logging

    logging.Formatter.converter = time.gmtime

    class _Handler(logging.Handler):
        def emit(self, record):
            try:
                msg = self.format(record)
                sys.stdout.write(msg + "\n")
                sys.stdout.flush()
            except Exception:
                self.handleError(record)

    class _Filter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id[0]
            return True

    h = _Handler()
    fmt = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    h.setFormatter(fmt)
    h.addFilter(_Filter())
    root = logging.getLogger()
    if root.handlers:
        # Something configured logging before the runtime started (a sitecustomize): its
        # handler already prints, and a second one would print every record twice.
        return
    root.addHandler(h)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())


def _json_or_none(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _to_body(result):
    if isinstance(result, (bytes, bytearray)):
        return bytes(result), None
    try:
        return json.dumps(result).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException("Runtime.MarshalError", "Unable to marshal response: %s" % str(e))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    # The bootstrap's own directory must not shadow the function's modules.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != here or p == task_root]
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    conn = _Conn(_API)
    handler_name = os.environ.get("_HANDLER", "")
    # Before the handler module is imported, as awslambdaric does.
    _set_up_logging_when_imported()
    try:
        handler = _get_handler(handler_name)
    except FaultException as e:
        result = _error_result(e)
        _log_error(result)
        conn.request(
            "POST",
            _PREFIX + "/init/error",
            json.dumps(result).encode("utf-8"),
            {"Lambda-Runtime-Function-Error-Type": e.exception_type, "Content-Type": "application/json"},
        )
        sys.exit(1)
    while True:
        status, headers, body = conn.request("GET", _PREFIX + "/invocation/next")
        if status != 200:
            sys.stderr.write("runtime API answered /next with %d; exiting\n" % status)
            sys.exit(1)
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        _request_id[0] = request_id
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            client_context = headers.get("lambda-runtime-client-context")
            cognito = headers.get("lambda-runtime-cognito-identity")
            context = LambdaContext(
                request_id,
                _json_or_none(client_context),
                _json_or_none(cognito),
                int(headers.get("lambda-runtime-deadline-ms", "0")),
                headers.get("lambda-runtime-invoked-function-arn"),
                headers.get("lambda-runtime-aws-tenant-id"),
            )
            try:
                event = json.loads(body) if body else {}
            except Exception as e:
                raise FaultException("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % str(e))
            result = handler(event, context)
            out, content_type = _to_body(result)
        except Exception as e:
            result = _error_result(e, request_id)
            _log_error(result)
            sys.stdout.flush()
            status, _, _ = conn.request(
                "POST",
                _PREFIX + "/invocation/%s/error" % request_id,
                json.dumps(result).encode("utf-8"),
                {"Lambda-Runtime-Function-Error-Type": result["errorType"], "Content-Type": "application/json"},
            )
            if status != 202:
                sys.exit(1)
            continue
        sys.stdout.flush()
        headers = {"Content-Type": content_type} if content_type else None
        status, _, _ = conn.request("POST", _PREFIX + "/invocation/%s/response" % request_id, out, headers)
        if status != 202:
            # Like awslambdaric: a refused response (e.g. 413) ends the runtime.
            sys.exit(1)


if __name__ == "__main__":
    main()
