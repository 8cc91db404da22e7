"""Start AWS Step Functions executions from Python, with the sfn:action@0.2.0 component.

This module runs the plugin component (`sfn_start_execution.wasm`, as built) under
wasmtime-py. It needs only the `wasmtime` package (PyPI, 50.0.1)::

    import sfn_action

    plugin = sfn_action.Plugin("sfn_start_execution.wasm",
                               cache_dir=sfn_action.default_cache_dir())
    config = sfn_action.StartExecutionConfig(
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld",
        input='{"order": 42}')
    try:
        execution = plugin.start(config)  # credentials from the AWS_* variables
        print(execution.execution_arn)
    except sfn_action.InvalidConfig as e:
        print(e.field_errors)
    except sfn_action.Failure as e:
        print(e, e.attempts, e.maybe_started)

The calls are the WIT's (`wit/sfn-action.wit`), with snake_case names: `validate`, `prepare`,
`prepare_sync`, `start`, `start_sync`, `describe` and `wait`. They take and return the
dataclasses below, whose fields are the WIT records' fields in snake_case. A call that
fails raises `Failure` (its `error` is one of the WIT `error` cases, typed), or
`InvalidConfig`, a `Failure` whose `field_errors` lists every broken rule.
`PluginError` means the component itself could not be loaded or run.

What the component gets:
- Its environment (`wasi:cli/environment`) is exactly the `env` mapping given to `Plugin`;
  by default, the variables of `os.environ` whose names start with `AWS_`, read when the
  `Plugin` is made. Credentials and the endpoint left out of `ClientOptions` come from it.
- No files (no preopened folder), no socket access (no network granted), no standard
  input or output: only outgoing HTTP through `wasi:http`, the clocks and randomness.
- wasmtime-py's `wasi:http` has no hook to vet outgoing requests: a call may reach any
  host, unlike the Rust host (`sfn-host`), whose policy lets a call reach only its own
  region's Step Functions endpoints and one configured endpoint.
- Its memory is capped per call (`memory_limit`, plus room for the call's own arguments).

Time: the host sets no deadline of its own. A call ends when the component ends it:
`ClientOptions.timeout_ms` bounds a call, retries and backoff included; without it, each
attempt has the component's own limits (10 s to connect, 60 s for each answer's bytes).
Ctrl-C is seen only once the call returns.

Threads: a `Plugin` may be shared. Every use of wasmtime-py here holds one process-wide
lock, because wasmtime-py's conversion of argument values uses module-level state: calls
from several threads run one at a time. Use processes to run calls in parallel.

Compiled code: the component is compiled once per process. With `cache_dir`, the code is
kept between processes in that folder, under the rules of the Rust host's cache (see
`_CodeCache`); `default_cache_dir()` is `$XDG_CACHE_HOME/sfn-start/python`, else
`~/.cache/sfn-start/python`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import os
import platform
import stat
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Mapping, Optional, Tuple, Union

from wasmtime import Engine, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, Linker, Record, Variant

__all__ = [
    "Plugin", "default_cache_dir",
    "StartExecutionConfig", "Credentials", "ClientOptions",
    "FieldError", "ServiceError", "Execution", "BillingDetails", "Outcome", "SignedRequest",
    "InvalidConfigError", "MissingCredentialsError", "TransportError", "InvalidResponseError",
    "Error", "Failure", "InvalidConfig", "PluginError", "CacheWarning",
]

INTERFACE = "sfn:action/start-execution@0.2.0"
FUNCTIONS = ("validate", "prepare", "prepare_sync", "start", "start_sync", "describe", "wait")

# What a call's component may use besides room for its arguments, as the Rust host allows.
MEMORY_LIMIT = 64 * 1024 * 1024


# --- What goes in ------------------------------------------------------------------------


@dataclass(frozen=True)
class StartExecutionConfig:
    """The action's arguments (WIT `start-execution-config`)."""

    state_machine_arn: str
    input: Optional[str] = None
    name: Optional[str] = None
    region: Optional[str] = None
    trace_header: Optional[str] = None

    def __post_init__(self):
        _check_type(self, "state_machine_arn", str)
        for name in ("input", "name", "region", "trace_header"):
            _check_type(self, name, str, optional=True)


@dataclass(frozen=True)
class Credentials:
    """AWS credentials (WIT `credentials`). The secret and the token stay out of `repr`."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: Optional[str] = field(default=None, repr=False)

    def __post_init__(self):
        _check_type(self, "access_key_id", str)
        _check_type(self, "secret_access_key", str)
        _check_type(self, "session_token", str, optional=True)


@dataclass(frozen=True)
class ClientOptions:
    """How to reach Step Functions (WIT `client-options`); what is left out comes from the
    component's environment."""

    credentials: Optional[Credentials] = None
    endpoint_url: Optional[str] = None
    use_fips: bool = False
    use_dual_stack: bool = False
    max_attempts: Optional[int] = None
    timeout_ms: Optional[int] = None

    def __post_init__(self):
        _check_type(self, "credentials", Credentials, optional=True)
        _check_type(self, "endpoint_url", str, optional=True)
        _check_type(self, "use_fips", bool)
        _check_type(self, "use_dual_stack", bool)
        if self.max_attempts is not None:
            _check_unsigned("ClientOptions.max_attempts", self.max_attempts, 32)
        if self.timeout_ms is not None:
            _check_unsigned("ClientOptions.timeout_ms", self.timeout_ms, 64)


# --- What comes out ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One broken rule: the argument or option at fault, and the rule in words."""

    field: str
    message: str

    def __str__(self):
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class ServiceError:
    """An error answered by Step Functions (WIT `service-error`); the `service` case."""

    status: int
    code: str
    message: str
    request_id: Optional[str]

    def __str__(self):
        return f"{self.code}: {self.message} (HTTP {self.status})"


@dataclass(frozen=True)
class Execution:
    """A started execution (WIT `execution`)."""

    execution_arn: str
    start_date_epoch_ms: int
    request_id: Optional[str]
    attempts: int


@dataclass(frozen=True)
class BillingDetails:
    """What an express execution was billed for (WIT `billing-details`)."""

    billed_memory_used_mb: int
    billed_duration_ms: int


@dataclass(frozen=True)
class Outcome:
    """An execution's status and, once it has ended, its result (WIT `outcome`)."""

    execution_arn: str
    status: str
    start_date_epoch_ms: int
    stop_date_epoch_ms: Optional[int]
    output: Optional[str]
    error: Optional[str]
    cause: Optional[str]
    billing: Optional[BillingDetails]
    request_id: Optional[str]
    attempts: int


@dataclass(frozen=True, repr=False)
class SignedRequest:
    """A signed request, ready for any HTTP client (WIT `signed-request`)."""

    method: str
    url: str
    headers: List[Tuple[str, str]]
    body: str

    def __repr__(self):
        # The session token travels as a header: shown redacted.
        shown = [(k, "<redacted>" if k == "x-amz-security-token" else v) for k, v in self.headers]
        return (
            f"SignedRequest(method={self.method!r}, url={self.url!r}, headers={shown!r}, "
            f"body={self.body!r})"
        )


# The cases of the WIT `error` variant, besides `ServiceError` (the `service` case).


@dataclass(frozen=True)
class InvalidConfigError:
    """`invalid-config`: every broken rule, in argument order. Nothing was sent."""

    field_errors: List[FieldError]

    def __str__(self):
        return "invalid arguments: " + "; ".join(map(str, self.field_errors))


@dataclass(frozen=True)
class MissingCredentialsError:
    """`missing-credentials`: none given or found; the message names what was read."""

    message: str

    def __str__(self):
        return f"missing credentials: {self.message}"


@dataclass(frozen=True)
class TransportError:
    """`transport`: the request could not be sent or its answer not received."""

    message: str

    def __str__(self):
        return self.message


@dataclass(frozen=True)
class InvalidResponseError:
    """`invalid-response`: a 2xx answer whose body is not a result of the operation."""

    message: str

    def __str__(self):
        return f"invalid response: {self.message}"


Error = Union[
    InvalidConfigError, MissingCredentialsError, ServiceError, TransportError, InvalidResponseError
]


class Failure(Exception):
    """A call that failed (WIT `failure`): `error` is the WIT `error` case, `attempts` the
    requests sent, `maybe_started` (of `start`) the execution an attempt may have started."""

    def __init__(self, error: Error, attempts: int = 0, maybe_started: Optional[str] = None):
        # The component has already replaced any secret in the messages with `***`.
        message = str(error)
        if attempts:
            message += f" (after {attempts} attempt{'s' if attempts > 1 else ''})"
        if maybe_started:
            message += f"; the execution may have started: {maybe_started}"
        super().__init__(message)
        self.error = error
        self.attempts = attempts
        self.maybe_started = maybe_started


class InvalidConfig(Failure):
    """The arguments or options break the rules: `field_errors` lists each, in order."""

    @property
    def field_errors(self) -> List[FieldError]:
        return self.error.field_errors


class PluginError(Exception):
    """The component could not be loaded, or trapped: not an answer of the component."""


class CacheWarning(RuntimeWarning):
    """The compiled-code cache could not be used; the component was compiled instead."""


# --- The plugin --------------------------------------------------------------------------


class Plugin:
    """The component loaded from `wasm_path`, ready for calls.

    `env` is the component's whole environment (default: the `AWS_*` variables of
    `os.environ`, read now). `cache_dir` keeps compiled code between processes (off when
    None). `loaded_from` says where the code came from: "compile", "cache" (`cache_dir`),
    or "process" (already compiled by this process).
    """

    def __init__(
        self,
        wasm_path: Union[str, os.PathLike],
        *,
        cache_dir: Union[str, os.PathLike, None] = None,
        env: Optional[Mapping[str, str]] = None,
        memory_limit: int = MEMORY_LIMIT,
    ):
        if env is None:
            env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
        self._env = _checked_env(env)
        _check_unsigned("memory_limit", memory_limit, 32)
        self._memory_limit = memory_limit
        self._component, self.loaded_from = _load(Path(wasm_path), cache_dir)
        self._functions = _exports(self._component, wasm_path)
        # Instantiating once now reports a component that does not link at load time.
        with _LOCK, self._store(0) as store:
            _instantiate(store, self._component)

    def validate(self, config: StartExecutionConfig) -> None:
        """Checks every argument, without I/O; raises `InvalidConfig` listing every broken rule."""
        _check_argument("config", config, StartExecutionConfig)
        errors = self._call("validate", config=config)
        # result<_, list<field-error>>: wasmtime-py lifts it untagged, None or the list.
        if errors is not None:
            raise InvalidConfig(InvalidConfigError([_lift(FieldError, e) for e in errors]))

    def prepare(
        self, config: StartExecutionConfig, options: Optional[ClientOptions] = None
    ) -> SignedRequest:
        """Validates and signs the StartExecution request without sending it."""
        return self._sign("prepare", config, options)

    def prepare_sync(
        self, config: StartExecutionConfig, options: Optional[ClientOptions] = None
    ) -> SignedRequest:
        """As `prepare`, for the StartSyncExecution request of `start_sync`."""
        return self._sign("prepare_sync", config, options)

    def start(
        self, config: StartExecutionConfig, options: Optional[ClientOptions] = None
    ) -> Execution:
        """Validates, names (if unnamed), signs and sends StartExecution, with retries."""
        _check_argument("config", config, StartExecutionConfig)
        return _lift(Execution, self._send("start", config=config, options=_options(options)))

    def start_sync(
        self, config: StartExecutionConfig, options: Optional[ClientOptions] = None
    ) -> Outcome:
        """Runs an EXPRESS state machine with StartSyncExecution; returns how it ended."""
        _check_argument("config", config, StartExecutionConfig)
        return _outcome(self._send("start_sync", config=config, options=_options(options)))

    def describe(self, execution_arn: str, options: Optional[ClientOptions] = None) -> Outcome:
        """DescribeExecution, once, retried as `options` says."""
        _check_argument("execution_arn", execution_arn, str)
        return _outcome(
            self._send("describe", execution_arn=execution_arn, options=_options(options))
        )

    def wait(
        self, execution_arn: str, options: Optional[ClientOptions] = None, *, max_wait_ms: int
    ) -> Outcome:
        """Polls DescribeExecution until the execution ends or `max_wait_ms` passes (then
        its status is RUNNING). EXPRESS executions are refused: use `start_sync`."""
        _check_argument("execution_arn", execution_arn, str)
        _check_unsigned("max_wait_ms", max_wait_ms, 64)
        options = _options(options)
        outcome = self._send(
            "wait", execution_arn=execution_arn, options=options, max_wait_ms=max_wait_ms
        )
        return _outcome(outcome)

    def _sign(self, function, config, options):
        _check_argument("config", config, StartExecutionConfig)
        answer = self._call(function, config=config, options=_options(options))
        # result<signed-request, error>: untagged, a Record or the `error` Variant.
        if isinstance(answer, Variant):
            raise _failure(_error(answer))
        return _lift(SignedRequest, answer)

    def _send(self, function, **arguments):
        answer = self._call(function, **arguments)
        # result<T, failure> with two records: wasmtime-py tags it ok or err.
        if answer.tag == "err":
            failure = answer.payload
            raise _failure(
                _error(_field(failure, "error")),
                _field(failure, "attempts"),
                _field(failure, "maybe-started"),
            )
        return answer.payload

    def _call(self, function, **arguments):
        """Runs one export, its arguments given by name in the WIT's order, in an instance
        of its own."""
        # A fresh instance per call: none sees another's memory (credentials) or inherits a trap.
        room = sum(_argument_bytes(name, value) for name, value in arguments.items())
        lowered = [_lower(value) for value in arguments.values()]
        with _LOCK, self._store(room) as store:
            instance = _instantiate(store, self._component)
            func = instance.get_func(store, self._functions[function])
            try:
                answer = func(store, *lowered)
                func.post_return(store)
            except WasmtimeError as e:
                raise PluginError(f"the component trapped in {function}: {_trap_cause(e)}") from e
        return answer

    def _store(self, argument_bytes):
        store = Store(_engine())
        wasi = WasiConfig()  # no preopened folders, no stdio, no network but wasi:http
        wasi.env = list(self._env.items())
        store.set_wasi(wasi)
        store.set_wasi_http()  # without it, the first wasi:http call aborts the process
        # The arguments are copied in, and a message quoting one grows its buffer by doubling.
        store.set_limits(memory_size=self._memory_limit + 4 * argument_bytes)
        return store


def _options(options):
    if options is None:
        return ClientOptions()
    _check_argument("options", options, ClientOptions)
    return options


def _outcome(record) -> Outcome:
    outcome = _lift(Outcome, record)
    if outcome.billing is None:
        return outcome
    return dataclasses.replace(outcome, billing=_lift(BillingDetails, outcome.billing))


def _error(variant: Variant) -> Error:
    """The WIT `error` variant, lifted by wasmtime-py as Variant(tag, payload), typed."""
    tag, payload = variant.tag, variant.payload
    if tag == "invalid-config":
        return InvalidConfigError([_lift(FieldError, e) for e in payload])
    if tag == "missing-credentials":
        return MissingCredentialsError(payload)
    if tag == "service":
        return _lift(ServiceError, payload)
    if tag == "transport":
        return TransportError(payload)
    if tag == "invalid-response":
        return InvalidResponseError(payload)
    raise PluginError(f"the component answered an unknown error case {tag!r}")


def _failure(error: Error, attempts: int = 0, maybe_started: Optional[str] = None) -> Failure:
    kind = InvalidConfig if isinstance(error, InvalidConfigError) else Failure
    return kind(error, attempts, maybe_started)


def _trap_cause(error: WasmtimeError) -> str:
    """A trap's cause on one line; the wasm backtrace stays in the chained exception."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    cause = lines[-1] if lines else "unknown"
    return cause.removeprefix("wasm trap: ")


# --- Records: the WIT's kebab-case names, as wasmtime-py gives and takes them ------------


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _field(record: Record, name: str):
    return record.__dict__[name]


def _lower(value):
    """A dataclass as a wasmtime-py Record (nested ones too); anything else as it is."""
    if not dataclasses.is_dataclass(value):
        return value
    record = Record()
    for f in dataclasses.fields(value):
        record.__dict__[_kebab(f.name)] = _lower(getattr(value, f.name))
    return record


def _lift(cls, record: Record):
    """The dataclass `cls` from a Record with its fields' kebab-case names."""
    return cls(**{f.name: _field(record, _kebab(f.name)) for f in dataclasses.fields(cls)})


# --- Checking arguments before they reach wasmtime-py ------------------------------------
# wasmtime-py would refuse a wrong type without naming the argument, and would wrap an
# integer out of range, so each is checked here with the argument's name.


def _check_type(owner, name: str, kind: type, optional: bool = False):
    value = getattr(owner, name)
    if value is None and optional:
        return
    # bool is an int subclass; no integer field here takes a bool.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        wanted = kind.__name__ + (" or None" if optional else "")
        where = f"{type(owner).__name__}.{name}"
        raise TypeError(f"{where} must be {wanted}, got {type(value).__name__}")


def _check_unsigned(where: str, value, bits: int):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{where} must be an int, got {type(value).__name__}")
    if not 0 <= value < 2**bits:
        raise ValueError(f"{where} must be from 0 to {2**bits - 1}, got {value}")


def _check_argument(name: str, value, kind: type):
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be a {kind.__name__}, got {type(value).__name__}")


def _argument_bytes(where: str, value) -> int:
    """The UTF-8 size of every string in an argument; refuses text UTF-8 cannot encode
    (lone surrogates), naming where, without quoting it (it may be a secret)."""
    if isinstance(value, str):
        if value.isascii():
            return len(value)
        try:
            return len(value.encode("utf-8"))
        except UnicodeEncodeError as e:
            problem = f"{e.reason} at index {e.start}"
            raise ValueError(f"{where} is not valid Unicode: {problem}") from None
    if dataclasses.is_dataclass(value):
        return sum(
            _argument_bytes(f"{where}.{f.name}", getattr(value, f.name))
            for f in dataclasses.fields(value)
        )
    return 0


def _checked_env(env: Mapping[str, str]) -> dict:
    if not isinstance(env, Mapping):
        raise TypeError(f"env must be a mapping of str to str, got {type(env).__name__}")
    checked = {}
    for name, value in env.items():
        if not isinstance(name, str) or not isinstance(value, str):
            kinds = f"{type(name).__name__}: {type(value).__name__}"
            raise TypeError(f"env must map str to str, got {kinds}")
        if not name or "=" in name or "\0" in name or "\0" in value:
            raise ValueError(f"env: {name!r} is not a valid variable (name, or NUL in its value)")
        _argument_bytes("env: a name", name)
        _argument_bytes(f"env[{name!r}]", value)
        checked[name] = value
    return checked


# --- Loading: one engine, one linker, each component compiled once per process ------------

# Every use of wasmtime-py holds this lock (see "Threads" above).
_LOCK = threading.RLock()
_ENGINE: Optional[Engine] = None
_LINKER: Optional[Linker] = None
# (absolute path, SHA-256 of its bytes) -> Component
_COMPILED: dict = {}


def _engine() -> Engine:
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = Engine()
        return _ENGINE


def _instantiate(store: Store, component: Component):
    global _LINKER
    if _LINKER is None:
        _LINKER = Linker(_engine())
        _LINKER.add_wasip2()
        _LINKER.add_wasi_http()
    try:
        return _LINKER.instantiate(store, component)
    except WasmtimeError as e:
        raise PluginError(f"instantiating the component: {e}") from e


def _load(path: Path, cache_dir) -> Tuple[Component, str]:
    try:
        wasm = path.read_bytes()
    except OSError as e:
        raise PluginError(f"reading component {path}: {e.strerror or e}") from e
    key = (str(path.absolute()), hashlib.sha256(wasm).hexdigest())
    with _LOCK:
        if key in _COMPILED:
            return _COMPILED[key], "process"
        if cache_dir is None:
            component, source = _compile(wasm, path), "compile"
        else:
            component, source = _CodeCache(Path(cache_dir)).load(wasm, path)
        _COMPILED[key] = component
        return component, source


def _compile(wasm: bytes, path: Path) -> Component:
    try:
        return Component(_engine(), wasm)
    except WasmtimeError as e:
        raise PluginError(f"compiling {path}: {e}") from e


def _exports(component: Component, path) -> dict:
    interface = component.get_export_index(INTERFACE)
    if interface is None:
        raise PluginError(f"{path} does not export {INTERFACE}")
    functions = {}
    for name in FUNCTIONS:
        index = component.get_export_index(_kebab(name), interface)
        if index is None:
            raise PluginError(f"{path} does not export {INTERFACE}#{_kebab(name)}")
        functions[name] = index
    return functions


def default_cache_dir() -> Optional[Path]:
    """`$XDG_CACHE_HOME/sfn-start/python`, else `~/.cache/sfn-start/python`; None if the
    environment names no home."""
    base = os.environ.get("XDG_CACHE_HOME") or None
    if base is None:
        home = os.environ.get("HOME")
        if not home:
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "sfn-start" / "python"


class _Untrusted(Exception):
    """`path` (a cache folder or entry) is not trusted, for the reason `why`."""

    def __init__(self, path, why):
        super().__init__(why)
        self.path, self.why = path, why


class _CodeCache:
    """Compiled code kept between processes, one `<key>.cwasm` per component, under the
    rules of the Rust host's cache (`host/src/cache.rs`).

    Compiled code is native code that wasmtime runs as it is (deserializing untrusted bytes
    is unsafe), so an entry is used only if nobody else could have written it: the folder
    and the entry are owned by this process's effective user, not writable by group or
    others, and not symbolic links. Anything else is ignored, with one warning, and the
    component compiled. The folder is created private (0700); entries are written to
    unpredictable, exclusively created temporary files in it and renamed into place, so
    that a reader never sees half of one. The key covers the component's bytes, the
    wasmtime-py version and the platform; an entry another engine wrote fails to
    deserialize, and is compiled and replaced.
    """

    def __init__(self, folder: Path):
        self.folder = folder

    def load(self, wasm: bytes, path: Path) -> Tuple[Component, str]:
        entry = self.folder / (self._key(wasm) + ".cwasm")
        warned = False
        try:
            code = self._read(entry)
        except _Untrusted as e:
            warned = _warn(f"not trusting {e.path}: {e.why}")
            code = None
        if code is not None:
            try:
                return Component.deserialize(_engine(), code), "cache"
            except WasmtimeError as e:
                warned = _warn(f"recompiling {entry}: {e}")
        component = _compile(wasm, path)
        try:
            self._write(entry, component.serialize())
        except (OSError, WasmtimeError, _Untrusted) as e:
            if not warned:
                _warn(f"could not keep the compiled component in {self.folder}: {e}")
        return component, "compile"

    @staticmethod
    def _key(wasm: bytes) -> str:
        digest = hashlib.sha256()
        for part in ("wasmtime-py", importlib.metadata.version("wasmtime"),
                     platform.system(), platform.machine()):
            digest.update(part.encode() + b"\0")
        digest.update(wasm)
        return digest.hexdigest()

    def _read(self, entry: Path) -> Optional[bytes]:
        """The entry's bytes if it is trusted; None if there is none."""
        try:
            os.lstat(entry)
        except OSError:
            return None  # no such entry or folder, or no access: a miss
        try:
            _trust(self.folder, os.lstat(self.folder), stat.S_ISDIR)
            _trust(entry, os.lstat(entry), stat.S_ISREG)
            # O_NOFOLLOW, and the checks again on what was opened: the bytes read are the
            # checked file's.
            fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as file:
                _trust(entry, os.fstat(file.fileno()), stat.S_ISREG)
                return file.read()
        except OSError as e:
            raise _Untrusted(entry, e.strerror or str(e)) from e

    def _write(self, entry: Path, code: bytes):
        _make_private_dirs(self.folder)
        _trust(self.folder, os.lstat(self.folder), stat.S_ISDIR)
        fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(code)
            os.replace(temporary, entry)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _trust(path: Path, st: os.stat_result, is_kind):
    """Raises _Untrusted unless `st` (of `path`) is of the kind `is_kind` tests (a folder,
    a regular file), this user's own, and only theirs to write."""
    user = os.geteuid()
    if stat.S_ISLNK(st.st_mode):
        raise _Untrusted(path, "it is a symbolic link")
    if not is_kind(st.st_mode):
        kind = "a folder" if is_kind is stat.S_ISDIR else "a regular file"
        raise _Untrusted(path, f"it is not {kind}")
    if st.st_uid != user:
        raise _Untrusted(path, f"it is owned by user {st.st_uid}, not {user}")
    if st.st_mode & 0o022:
        raise _Untrusted(path, f"its group or others may write it (mode {st.st_mode & 0o777:o})")


def _make_private_dirs(folder: Path):
    """Creates `folder` and any missing parent, each 0700."""
    missing = []
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)


def _warn(message: str) -> bool:
    """Warns (each load warns at most once), and says so."""
    # stacklevel: the warning names the line that made the Plugin.
    warnings.warn(f"sfn_action: {message}; the component is compiled instead", CacheWarning,
                  stacklevel=5)
    return True
