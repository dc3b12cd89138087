//! What the Lambda service needs to know about a function, independent of the template crate.
//!
//! The commands map `ssam_template::Function` into [`FunctionSpec`]; tests build it directly.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;

/// The region and account used to build ARNs when the caller gives none.
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// `/tmp`'s size when a function sets no `EphemeralStorage`
/// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html).
pub const DEFAULT_EPHEMERAL_STORAGE_MB: u32 = 512;

/// One function as the Lambda service runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSpec {
    /// The name Lambda knows the function by (FunctionName, else the logical id).
    pub name: String,
    /// The template's logical id (the key `--env-vars` sections use).
    pub logical_id: String,
    /// `python3.12`, `nodejs20.x`, `provided.al2023`, ...
    pub runtime: String,
    /// `app.handler`; ignored by `provided*` runtimes except as `_HANDLER`.
    pub handler: String,
    /// Absolute directory holding the code (LAMBDA_TASK_ROOT, the working directory).
    pub code_dir: PathBuf,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// Environment variables in declaration order: template variables, then `--env-vars`.
    pub env: IndexMap<String, String>,
    pub reserved_concurrency: Option<u32>,
    pub region: String,
    pub account_id: String,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// Retries of a failed asynchronous invocation (EventInvokeConfig; Lambda's default is 2).
    pub max_async_retries: u32,
    /// How long an asynchronous event may wait, retries included, before Lambda drops it
    /// (EventInvokeConfig `MaximumEventAgeInSeconds`; Lambda's default is 6 hours).
    pub max_event_age: Duration,
    /// Local layer directories, in the function's order (what Lambda extracts into `/opt`).
    pub layers: Vec<PathBuf>,
    /// Where the function runs: a native process, or a container.
    pub sandbox: SandboxKind,
    /// Set for the function being debugged (`--debug-port`).
    pub debug: Option<crate::debug::DebugSpec>,
    /// Lambda's filesystem rules (`filesystem.rs`): the code and layers read-only, only
    /// `/tmp` writable. Off with `--writable-code`; `FunctionSpec::new` leaves it off.
    pub lambda_filesystem: bool,
    /// `EphemeralStorage.Size`: the size of `/tmp` in MB (Lambda's default 512).
    pub ephemeral_storage_mb: u32,
}

/// Where a function's instances run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SandboxKind {
    /// Native processes on this machine (Zip functions, the default).
    #[default]
    Native,
    /// Containers of an image, through the Docker engine (Image functions, and Zip functions
    /// with `--docker`).
    Container(Box<ContainerSpec>),
}

/// How a function's containers are made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerSpec {
    pub image: ImageSource,
    /// `ImageConfig.EntryPoint`: replaces the image's ENTRYPOINT.
    pub entry_point: Option<Vec<String>>,
    /// `ImageConfig.Command`: replaces the image's CMD.
    pub command: Option<Vec<String>>,
    /// `ImageConfig.WorkingDirectory`.
    pub working_dir: Option<String>,
    /// A Zip function in a runtime image: its code is mounted read-only at `/var/task` and its
    /// layers at `/opt`, and the handler is the container's command.
    pub mount_code: bool,
}

/// Where a container's image comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageSource {
    /// Built from the function's Dockerfile (`Metadata`), and rebuilt when its inputs change.
    Build(ssam_docker::ImageSpec),
    /// An image that must be present locally (`ImageUri`, `--invoke-image`, a runtime image).
    Local(String),
}

/// Service-wide Docker settings (SAM's Docker flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DockerOptions {
    /// `--docker-network`: `None` is the host's network (Linux), where 127.0.0.1 in the
    /// container is this machine.
    pub network: Option<String>,
    /// `--add-host host:ip`, repeatable.
    pub add_hosts: Vec<String>,
    /// `--force-image-build`: build every image once at start even when up to date.
    pub force_image_build: bool,
    /// `--pull`: pull a missing image instead of failing.
    pub pull: bool,
    /// The template's path, stored on each container as a label.
    pub template: Option<String>,
}

impl FunctionSpec {
    /// A spec with Lambda's defaults (128 MB, 3 s, us-east-1); tests and callers fill in the rest.
    pub fn new(
        name: impl Into<String>,
        runtime: impl Into<String>,
        handler: impl Into<String>,
        code_dir: impl Into<PathBuf>,
    ) -> Self {
        let name = name.into();
        FunctionSpec {
            logical_id: name.clone(),
            name,
            runtime: runtime.into(),
            handler: handler.into(),
            code_dir: code_dir.into(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            env: IndexMap::new(),
            reserved_concurrency: None,
            region: DEFAULT_REGION.to_string(),
            account_id: DEFAULT_ACCOUNT_ID.to_string(),
            architecture: "x86_64".to_string(),
            max_async_retries: 2,
            max_event_age: Duration::from_secs(6 * 60 * 60),
            layers: Vec::new(),
            sandbox: SandboxKind::Native,
            debug: None,
            lambda_filesystem: false,
            ephemeral_storage_mb: DEFAULT_EPHEMERAL_STORAGE_MB,
        }
    }

    /// What runs the function, for people: `python3.12`, `image thumbnailgenerator:latest`,
    /// `python3.12 in public.ecr.aws/lambda/python:3.12`.
    pub fn runs_in(&self) -> String {
        match &self.sandbox {
            SandboxKind::Native => self.runtime.clone(),
            SandboxKind::Container(c) => {
                let image = match &c.image {
                    ImageSource::Build(b) => b.image_tag(),
                    ImageSource::Local(name) => name.clone(),
                };
                if c.mount_code {
                    format!("{} in {image}", self.runtime)
                } else {
                    format!("image {image}")
                }
            }
        }
    }

    /// The directories whose changes make the next invocation start fresh: the code and
    /// layers for native sandboxes and mounted code, the build context for built images.
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        let code = || {
            std::iter::once(self.code_dir.clone())
                .chain(self.layers.iter().cloned())
                .collect()
        };
        match &self.sandbox {
            SandboxKind::Native => code(),
            SandboxKind::Container(c) => match &c.image {
                ImageSource::Build(image) => vec![image.context_dir.clone()],
                ImageSource::Local(_) if c.mount_code => code(),
                ImageSource::Local(_) => Vec::new(),
            },
        }
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`, as Lambda sends it to the runtime.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.name
        )
    }

    pub fn runtime_kind(&self) -> RuntimeKind {
        RuntimeKind::parse(&self.runtime)
    }
}

/// The families of runtimes ssam runs natively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `python3.X`, with the minor version.
    Python { minor: u32 },
    /// `nodejsNN.x`, with the major version.
    Node { major: u32 },
    /// `provided`, `provided.al2`, `provided.al2023`: the user's `bootstrap`.
    Provided,
    /// Anything else (java, dotnet, ruby, ...): not runnable natively.
    Unsupported(String),
}

impl RuntimeKind {
    pub fn parse(runtime: &str) -> Self {
        if let Some(minor) = runtime.strip_prefix("python3.") {
            if let Ok(minor) = minor.parse() {
                return RuntimeKind::Python { minor };
            }
        }
        if let Some(rest) = runtime.strip_prefix("nodejs") {
            if let Ok(major) = rest.trim_end_matches(".x").parse() {
                return RuntimeKind::Node { major };
            }
        }
        if runtime == "provided" || runtime.starts_with("provided.") {
            return RuntimeKind::Provided;
        }
        RuntimeKind::Unsupported(runtime.to_string())
    }
}

/// How the service behaves as a whole.
#[derive(Clone, Debug)]
pub struct ServiceOptions {
    /// Idle instances older than this are stopped (None: keep them until shutdown).
    pub idle_timeout: Option<Duration>,
    /// How long a runtime may take to call `/next` the first time (Lambda: 10 s).
    pub init_timeout: Duration,
    /// Print each instance's output (and START/END/REPORT) to ssam's stderr.
    pub print_logs: bool,
    /// Prefix every log line with `[FunctionName] `.
    pub log_prefix: bool,
    /// Variables added to every sandbox after the reserved ones (e.g. AWS_ENDPOINT_URL).
    pub extra_env: IndexMap<String, String>,
    /// Where the embedded bootstraps are written (default: `$XDG_CACHE_HOME/ssam`).
    pub cache_dir: Option<PathBuf>,
    /// Delay before the first retry of a failed asynchronous invocation (doubles each time).
    pub async_retry_delay: Duration,
    /// Instances a function without ReservedConcurrentExecutions may run at once
    /// (`--max-instances`); requests beyond wait for one to free up.
    pub max_instances: u32,
    /// How containers are run (Image functions, `--docker`).
    pub docker: DockerOptions,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            idle_timeout: Some(Duration::from_secs(600)),
            init_timeout: Duration::from_secs(10),
            print_logs: true,
            log_prefix: true,
            extra_env: IndexMap::new(),
            cache_dir: None,
            async_retry_delay: Duration::from_secs(1),
            max_instances: crate::pool::default_max_instances(),
            docker: DockerOptions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_kinds() {
        assert_eq!(
            RuntimeKind::parse("python3.12"),
            RuntimeKind::Python { minor: 12 }
        );
        assert_eq!(
            RuntimeKind::parse("nodejs20.x"),
            RuntimeKind::Node { major: 20 }
        );
        assert_eq!(RuntimeKind::parse("provided.al2023"), RuntimeKind::Provided);
        assert_eq!(RuntimeKind::parse("provided"), RuntimeKind::Provided);
        assert!(matches!(
            RuntimeKind::parse("java21"),
            RuntimeKind::Unsupported(_)
        ));
    }
}
