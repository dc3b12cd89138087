//! The gateway: the route table and functions requests are served with now (swapped
//! whole on reload), the `Mounting` lines, and the per-request timing and access log around
//! [`pipeline::run`], which serves the request.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Response;
use ssam_lambda::from_template::Skipped;
use ssam_lambda::{FunctionSpec, LambdaService, ServiceOptions};
use ssam_template::App;
use time::OffsetDateTime;

use crate::authorizer::AuthCache;
use crate::functions::Functions;
use crate::header_case::Spellings;
use crate::pipeline::{self, Body};
use crate::routes::RouteTable;

/// How the gateway behaves beyond what the template says.
#[derive(Clone, Debug, Default)]
pub struct GatewayOptions {
    /// Overrides the integration timeout of every route (tests; AWS's are 30 s / 29 s).
    pub integration_timeout: Option<Duration>,
    /// Files served as they are for GET/HEAD (`--static-dir`).
    pub static_dir: Option<PathBuf>,
    /// Let every request through without running authorizers.
    pub disable_authorizer: bool,
    /// Key sets of JWT / Cognito issuers (`--jwks`): their tokens' signatures are checked.
    pub jwks: std::sync::Arc<crate::jwt::Jwks>,
    /// What `AWS_IAM` routes accept.
    pub iam: crate::iam::IamOptions,
    /// Print one access-log line per request on stderr.
    pub log_requests: bool,
    /// Record the gateway's own time per request (benchmarks; see [`Gateway::take_overhead`]).
    pub record_overhead: bool,
}

/// What the template says, in the form the gateway serves it.
pub struct Config {
    pub table: RouteTable,
    pub region: String,
    pub account_id: String,
}

/// A route as SAM's `Mounting` line shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub function: String,
    /// As declared, without the stage prefix (as SAM prints it).
    pub path: String,
    pub methods: Vec<String>,
}

/// The running gateway.
pub struct Gateway {
    config: RwLock<Arc<Config>>,
    pub functions: Functions,
    pub(crate) options: GatewayOptions,
    pub(crate) auth_cache: AuthCache,
    overhead: Option<std::sync::Mutex<Vec<Duration>>>,
}

impl Gateway {
    /// Builds the gateway; `warnings` receives what cannot be served as AWS would. Must be
    /// called inside a Tokio runtime.
    pub fn new(
        app: &App,
        specs: Vec<FunctionSpec>,
        skipped: Vec<Skipped>,
        service_options: ServiceOptions,
        options: GatewayOptions,
        warnings: &mut Vec<String>,
    ) -> Arc<Self> {
        let config = Self::config_of(app, &options, warnings);
        Arc::new(Gateway {
            config: RwLock::new(Arc::new(config)),
            functions: Functions::owned(LambdaService::new(specs, service_options), skipped),
            overhead: options
                .record_overhead
                .then(|| std::sync::Mutex::new(Vec::new())),
            options,
            auth_cache: AuthCache::default(),
        })
    }

    /// Like [`Gateway::new`], on a Lambda service the caller owns (and shuts down), e.g. the
    /// one `ssam local start` shares with the Invoke API and S3 events. The owner watches
    /// the code and recycles instances itself (`ssam_lambda::watch`).
    pub fn on_service(
        app: &App,
        service: Arc<ssam_lambda::LambdaService>,
        skipped: Vec<Skipped>,
        options: GatewayOptions,
        warnings: &mut Vec<String>,
    ) -> Arc<Self> {
        let config = Self::config_of(app, &options, warnings);
        Arc::new(Gateway {
            config: RwLock::new(Arc::new(config)),
            functions: Functions::shared(service, skipped),
            overhead: options
                .record_overhead
                .then(|| std::sync::Mutex::new(Vec::new())),
            options,
            auth_cache: AuthCache::default(),
        })
    }

    fn config_of(app: &App, options: &GatewayOptions, warnings: &mut Vec<String>) -> Config {
        let table = RouteTable::from_app(app, warnings);
        if !options.disable_authorizer {
            jwt_warnings(&table, &options.jwks, warnings);
            if !options.iam.checks_signatures() {
                iam_warnings(&table, warnings);
            }
        }
        Config {
            table,
            region: app.region.clone(),
            account_id: app.account_id.clone(),
        }
    }

    /// The configuration requests are served with now.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Serves a reloaded template: new routes at once, changed functions with fresh
    /// instances. Returns the functions whose instances were replaced.
    pub fn reload(
        &self,
        app: &App,
        specs: Vec<FunctionSpec>,
        skipped: Vec<Skipped>,
        warnings: &mut Vec<String>,
    ) -> Vec<String> {
        let config = Self::config_of(app, &self.options, warnings);
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        self.auth_cache.clear();
        self.functions.update(specs, skipped)
    }

    /// The routes, as SAM's `Mounting X at http://host:port/path [GET, OPTIONS]` lines list
    /// them: one line per function and path, methods merged, `OPTIONS` added where the
    /// gateway answers CORS preflights.
    pub fn mounts(&self) -> Vec<Mount> {
        let config = self.config();
        let mut out: Vec<Mount> = Vec::new();
        // Mock methods (CDK's CORS preflights) run no function: no Mounting line.
        for r in config.table.routes.iter().filter(|r| r.mock.is_none()) {
            let Some(api) = config.table.apis.get(r.api) else {
                continue;
            };
            // SAM prints the path without the stage; the stage-prefixed form is served too.
            let path = if r.is_catch_all() {
                "/{proxy+}".to_string()
            } else {
                r.path.clone()
            };
            let mut methods = r.display_methods();
            if api.cors.is_some() {
                methods.push("OPTIONS".into());
            }
            match out
                .iter_mut()
                .find(|m| m.function == r.function && m.path == path)
            {
                Some(m) => m.methods.extend(methods),
                None => out.push(Mount {
                    function: r.function.clone(),
                    path,
                    methods,
                }),
            }
        }
        for m in &mut out {
            m.methods.sort();
            m.methods.dedup();
        }
        out
    }

    /// Serves one request.
    pub async fn handle<B>(
        &self,
        req: http::Request<B>,
        peer: std::net::SocketAddr,
        local_port: u16,
        spellings: Option<Spellings>,
    ) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let log_line = if self.options.log_requests {
            Some(format!("{} {}", req.method(), req.uri()))
        } else {
            None
        };
        let mut invoke_time = Duration::ZERO;
        let resp = pipeline::run(self, req, peer, local_port, spellings, &mut invoke_time).await;
        if let Some(samples) = &self.overhead {
            let own = started.elapsed().saturating_sub(invoke_time);
            samples.lock().unwrap_or_else(|p| p.into_inner()).push(own);
        }
        if let Some(line) = log_line {
            let now = OffsetDateTime::now_utc();
            tracing::info!(
                "{} - - [{}] \"{line} HTTP/1.1\" {} - {:.1} ms",
                peer.ip(),
                ssam_events::encode::clf(now),
                resp.status().as_u16(),
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        resp
    }

    /// The gateway's own time per request so far (everything but the invocation), when
    /// [`GatewayOptions::record_overhead`] is set; clears the record.
    pub fn take_overhead(&self) -> Vec<Duration> {
        self.overhead
            .as_ref()
            .map(|s| std::mem::take(&mut *s.lock().unwrap_or_else(|p| p.into_inner())))
            .unwrap_or_default()
    }
}

/// Says at start, once per API, that its `AWS_IAM` routes take any SigV4 signature when
/// `--iam-credentials` gives no secret to check them with.
fn iam_warnings(table: &RouteTable, warnings: &mut Vec<String>) {
    let mut said = std::collections::HashSet::new();
    for r in &table.routes {
        if !matches!(r.guard, crate::routes::Guard::Iam) {
            continue;
        }
        let api = table.apis.get(r.api).map_or("", |a| a.logical_id.as_str());
        if said.insert(api) {
            warnings.push(format!(
                "{api}: AWS_IAM routes accept any SigV4-signed request: signatures are not checked\n  hint: give the signing key's secret: --iam-credentials ACCESS_KEY:SECRET"
            ));
        }
    }
}

/// Says at start which tokens are accepted without a signature check: the issuers of JWT
/// and Cognito authorizers that no `--jwks` key set covers, once each.
fn jwt_warnings(table: &RouteTable, jwks: &crate::jwt::Jwks, warnings: &mut Vec<String>) {
    let mut said = std::collections::HashSet::new();
    for r in &table.routes {
        let crate::routes::Guard::Jwt(j) = &r.guard else {
            continue;
        };
        let Some(conf) = &j.authorizer.jwt else {
            continue;
        };
        let api = table.apis.get(r.api).map_or("", |a| a.logical_id.as_str());
        for iss in &conf.issuers {
            if !jwks.checks(iss) && said.insert(iss.clone()) {
                warnings.push(format!(
                    "{api}: authorizer {}: token signatures of issuer {iss} are not checked (claims are)\n  hint: pass its key set: --jwks {iss}=jwks.json (a file or an http URL on this machine)",
                    j.authorizer.name
                ));
            }
        }
        if conf.issuer_unknown && said.insert(format!("?{}", j.authorizer.name)) {
            warnings.push(format!(
                "{api}: authorizer {}: its issuer is only known once deployed; tokens of any {}issuer are accepted and their signatures are not checked",
                j.authorizer.name,
                if j.authorizer.kind == ssam_template::AuthorizerKind::CognitoUserPools { "Cognito " } else { "" }
            ));
        }
    }
}
