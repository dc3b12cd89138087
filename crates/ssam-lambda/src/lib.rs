//! Lambda Runtime API emulator, invocation lifecycle, instance pools and sandboxes.
//!
//! [`LambdaService`] is the entry point: give it [`FunctionSpec`]s, then [`LambdaService::invoke`]
//! (RequestResponse), [`LambdaService::invoke_async`] (Event) or [`LambdaService::invoke_stream`].
//! Each function runs as native processes or containers (one per concurrent invocation) that
//! talk to ssam through the real Lambda Runtime API, so AWS's own runtime clients work unchanged.
//! [`invoke_api`] serves Lambda's Invoke API over HTTP for SDKs (`ssam local start-lambda`).

pub mod archive;
mod async_invoke;
mod bootstrap;
mod container;
mod debug;
mod deps;
pub mod env_vars;
mod error;
mod eventstream;
mod extensions;
pub mod filesystem;
pub mod from_template;
mod hints;
pub mod ids;
mod instance;
mod interpreter;
mod invocation;
pub mod invoke_api;
pub mod limits;
mod logs;
pub mod observe;
mod outcome;
mod pool;
mod python_sdk;
mod runtime_api;
mod sandbox;
mod service;
mod spec;
mod streaming;
mod telemetry;
pub mod watch;

pub use bootstrap::default_cache_dir;
pub use debug::{attach_hint, DebugSpec, DEBUG_TIMEOUT};
pub use error::InvokeError;
pub use interpreter::Interpreter;
pub use logs::{LogListener, Report};
pub use observe::{
    AsyncEvent, FunctionState, InvocationObserver, InvocationRecord, InvocationType, InvokeSource,
    Status,
};
pub use outcome::FailureKind;
pub use pool::default_max_instances;
pub use runtime_api::StreamEvent;
pub use service::{check_json, InvokeRequest, InvokeResponse, InvokeStream, LambdaService};
pub use spec::{
    ContainerSpec, DockerOptions, FunctionSpec, ImageSource, RuntimeKind, SandboxKind,
    ServiceOptions, DEFAULT_ACCOUNT_ID, DEFAULT_REGION,
};
