//! The typed application model: what the rest of ssam knows about a template.
//!
//! Built by `sam.rs` from the resolved template. Everything past this point works with these
//! types, never with raw YAML. Values an intrinsic could not resolve locally are kept as
//! [`Unresolved`] so callers can show them, not guess.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::Serialize;

use crate::diag::Location;

/// A value that is a string once resolved, or an intrinsic that cannot be evaluated locally
/// (e.g. `!GetAtt Table.StreamArn`), kept in CloudFormation's JSON form.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Text {
    Known(String),
    Unresolved(Unresolved),
}

impl Text {
    /// The resolved string, or the intrinsic rendered as compact JSON.
    pub fn display(&self) -> String {
        match self {
            Text::Known(s) => s.clone(),
            Text::Unresolved(u) => u.0.to_string(),
        }
    }

    pub fn as_known(&self) -> Option<&str> {
        match self {
            Text::Known(s) => Some(s),
            Text::Unresolved(_) => None,
        }
    }
}

/// An intrinsic function that cannot be evaluated locally, as CloudFormation JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Unresolved(pub serde_json::Value);

/// The whole application read from one template.
#[derive(Clone, Debug, Default, Serialize)]
pub struct App {
    /// The template file as given (absolute).
    pub template_path: PathBuf,
    /// Directory relative paths (CodeUri, DefinitionUri, Dockerfile) are resolved against.
    pub base_dir: PathBuf,
    pub region: String,
    pub account_id: String,
    pub stack_name: String,
    pub functions: Vec<Function>,
    pub apis: Vec<Api>,
    pub routes: Vec<Route>,
    /// REST methods with a `MOCK` integration (CDK's CORS `OPTIONS` methods), answered by
    /// the gateway itself.
    pub mock_methods: Vec<MockMethod>,
    pub buckets: Vec<Bucket>,
    pub layers: Vec<Layer>,
    pub s3_bindings: Vec<S3Binding>,
    /// Every resource of the processed template (after SAM expansion of implicit APIs).
    pub resources: Vec<ResourceSummary>,
    /// The template's `Outputs`, resolved as far as ssam can.
    pub outputs: IndexMap<String, Text>,
    /// Nested stacks (`AWS::Serverless::Application`, `AWS::CloudFormation::Stack`) loaded
    /// from local templates: their resources are merged into this app under `Child/Id`.
    pub nested_stacks: Vec<NestedStack>,
}

/// A nested stack loaded from a local template.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NestedStack {
    /// The logical id of the stack resource in its parent, with the parent's own prefix
    /// (`Outer/Inner` for a stack nested two levels deep).
    pub logical_id: String,
    pub template_path: PathBuf,
    pub location: Location,
}

impl App {
    /// Finds a function by logical id, or by its `FunctionName`, or by an ARN ending in either.
    pub fn function(&self, name_or_arn: &str) -> Option<&Function> {
        let name = name_or_arn
            .strip_prefix("arn:")
            .and_then(|arn| arn.split(':').nth(5))
            .unwrap_or(name_or_arn);
        self.functions.iter().find(|f| {
            f.logical_id == name || f.function_name.as_ref().and_then(Text::as_known) == Some(name)
        })
    }

    pub fn bucket(&self, logical_id: &str) -> Option<&Bucket> {
        self.buckets.iter().find(|b| b.logical_id == logical_id)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PackageType {
    Zip,
    Image,
}

/// Where a function's code comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Code {
    /// A local directory (CodeUri, resolved against the template's directory; "." when absent).
    Dir { path: PathBuf, as_written: String },
    /// A local zip or jar file.
    Archive { path: PathBuf, as_written: String },
    /// `s3://bucket/key` or `{Bucket, Key}`: not available locally.
    S3 {
        bucket: Text,
        key: Text,
        version: Option<Text>,
    },
    /// InlineCode / ZipFile.
    Inline { source: String },
    /// PackageType Image: an image URI, or built from `Metadata` (see [`ImageBuild`]).
    Image { uri: Option<Text> },
    /// A CodeUri that is an intrinsic ssam cannot evaluate.
    Unresolved { value: Unresolved },
}

/// How to build an Image function (`Metadata: Dockerfile/DockerContext/DockerTag`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImageBuild {
    pub dockerfile: String,
    /// Absolute path of the build context.
    pub docker_context: PathBuf,
    pub docker_tag: Option<String>,
    pub build_args: IndexMap<String, String>,
    pub build_target: Option<String>,
}

/// `ImageConfig` overrides of an Image function.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImageConfig {
    pub command: Option<Vec<String>>,
    pub entry_point: Option<Vec<String>>,
    pub working_directory: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EventInvokeConfig {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_in_seconds: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunctionUrl {
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    /// `BUFFERED` or `RESPONSE_STREAM`.
    pub invoke_mode: String,
    /// `FunctionUrlConfig.Cors` (the Lambda API's `Cors` type, the same fields as an HTTP
    /// API's `CorsConfiguration`, applied the same way).
    pub cors: Option<Cors>,
}

/// One Lambda function (`AWS::Serverless::Function` or `AWS::Lambda::Function`) after Globals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Function {
    pub logical_id: String,
    /// `FunctionName` when set; Lambda's name is the logical id locally otherwise.
    pub function_name: Option<Text>,
    pub resource_type: String,
    pub package_type: PackageType,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub code: Code,
    pub image_build: Option<ImageBuild>,
    pub image_config: Option<ImageConfig>,
    /// `Metadata.BuildMethod` (e.g. `makefile`, `esbuild`, `rust-cargolambda`).
    pub build_method: Option<String>,
    pub memory_size: u32,
    pub timeout: u32,
    pub architectures: Vec<String>,
    /// Environment variables in declaration order.
    pub environment: IndexMap<String, Text>,
    pub layers: Vec<Text>,
    pub reserved_concurrency: Option<u32>,
    pub ephemeral_storage_mb: Option<u32>,
    pub tracing: Option<String>,
    pub description: Option<String>,
    pub events: Vec<Event>,
    pub event_invoke_config: Option<EventInvokeConfig>,
    pub function_url: Option<FunctionUrl>,
    pub location: Location,
}

impl Function {
    /// The name Lambda knows the function by: `FunctionName` if set and known, else the logical id.
    pub fn name(&self) -> &str {
        self.function_name
            .as_ref()
            .and_then(Text::as_known)
            .unwrap_or(&self.logical_id)
    }

    /// The directory holding the function's code, for Zip functions with local code.
    pub fn code_dir(&self) -> Option<&std::path::Path> {
        match &self.code {
            Code::Dir { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// A function's event source, with its SAM event name (the key under `Events`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub name: String,
    /// The SAM event type as written (`Api`, `HttpApi`, `S3`, `SQS`, ...).
    pub event_type: String,
    pub source: EventSource,
    pub location: Location,
}

/// Typed SAM event sources. Types ssam cannot run yet are still parsed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum EventSource {
    Api(ApiEvent),
    HttpApi(ApiEvent),
    S3(S3Event),
    Sqs {
        queue: Text,
        batch_size: Option<u32>,
    },
    Sns {
        topic: Text,
    },
    Schedule {
        schedule: Text,
        input: Option<String>,
        enabled: bool,
    },
    ScheduleV2 {
        schedule: Text,
        input: Option<String>,
    },
    EventBridgeRule {
        pattern: Option<serde_json::Value>,
        event_bus: Option<Text>,
    },
    DynamoDb {
        stream: Text,
        starting_position: Option<String>,
        batch_size: Option<u32>,
    },
    Kinesis {
        stream: Text,
        starting_position: Option<String>,
        batch_size: Option<u32>,
    },
    /// Every other known SAM event type (MSK, MQ, CloudWatchLogs, IoTRule, Cognito,
    /// AlexaSkill, SelfManagedKafka, DocumentDB): recorded, not runnable locally.
    Other {
        properties: serde_json::Value,
    },
}

/// `Api` / `HttpApi` event properties.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiEvent {
    /// Logical id of the API (implicit `ServerlessRestApi` / `ServerlessHttpApi` when absent).
    pub api: String,
    /// False when `RestApiId`/`ApiId` is a plain string instead of `!Ref`: for an API defined
    /// by an external DefinitionUri, SAM then adds no route (only a permission).
    pub api_is_ref: bool,
    /// Upper-case method, or `ANY`.
    pub method: String,
    /// As declared (`/items/{id}`, `/{proxy+}`); `$default` for an HTTP API catch-all.
    pub path: String,
    pub payload_format_version: Option<String>,
    pub authorizer: Option<String>,
    /// `Auth.AuthorizationScopes` of the event (JWT and Cognito authorizers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    pub timeout_ms: Option<u32>,
}

/// `S3` event properties.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct S3Event {
    /// Logical id of the bucket.
    pub bucket: String,
    /// Sorted S3 event names (`s3:ObjectCreated:*`).
    pub events: Vec<String>,
    pub filter_rules: Vec<FilterRule>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FilterRule {
    /// `prefix` or `suffix` (lower case).
    pub name: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ApiType {
    #[serde(rename = "REST")]
    Rest,
    #[serde(rename = "HTTP")]
    Http,
}

/// An `AWS::Serverless::Api` / `HttpApi` (explicit or implicit) or `AWS::ApiGateway*` API.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Api {
    pub logical_id: String,
    pub api_type: ApiType,
    /// `$default` for HTTP APIs without a StageName; REST APIs always have one.
    pub stage_name: String,
    pub binary_media_types: Vec<String>,
    pub cors: Option<Cors>,
    pub stage_variables: IndexMap<String, String>,
    pub authorizers: Vec<Authorizer>,
    pub default_authorizer: Option<String>,
    pub disable_execute_api_endpoint: bool,
    pub implicit: bool,
}

/// CORS of an API, in HTTP API's `CorsConfiguration` vocabulary.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<u32>,
}

/// An authorizer of an API: SAM `Auth.Authorizers`, `AWS::ApiGateway::Authorizer`,
/// `AWS::ApiGatewayV2::Authorizer` or an OpenAPI `x-amazon-apigateway-authorizer`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Authorizer {
    pub name: String,
    /// Logical id of the authorizer function, when it is in the template.
    pub function: Option<String>,
    /// `TOKEN` or `REQUEST` for REST; `REQUEST` for HTTP.
    pub kind: AuthorizerKind,
    pub identity_sources: Vec<String>,
    pub payload_format_version: Option<String>,
    pub simple_responses: bool,
    pub ttl_seconds: u32,
    /// `AuthorizationScopes` of a SAM JWT / Cognito authorizer: the scopes of routes that
    /// name none themselves.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub default_scopes: Vec<String>,
    /// What a JWT or Cognito user-pool authorizer accepts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtConfig>,
    /// A TOKEN authorizer's `IdentityValidationExpression` (SAM `Identity.ValidationExpression`,
    /// OpenAPI `identityValidationExpression`): a regular expression the token must match,
    /// or the request is refused with 401 without invoking the authorizer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_validation: Option<String>,
}

/// The tokens a JWT authorizer (HTTP APIs) or a Cognito user-pool authorizer accepts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct JwtConfig {
    /// `JwtConfiguration.Issuer`, or the issuer of each Cognito user pool
    /// (`https://cognito-idp.{region}.amazonaws.com/{poolId}`).
    pub issuers: Vec<String>,
    /// True when an issuer is only known once deployed (a pool or a `!Ref` of this
    /// template): any issuer is accepted then, and the start-up says so.
    pub issuer_unknown: bool,
    /// `JwtConfiguration.Audience`: the token's `aud` or `client_id` must be one of them.
    /// Empty for Cognito user-pool authorizers of REST APIs (no client is configured).
    pub audience: Vec<String>,
}

/// What kind of authorizer an `Auth.Authorizers` entry is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum AuthorizerKind {
    /// A Lambda authorizer given the token of one header (REST's default).
    Token,
    /// A Lambda authorizer given the request (HTTP APIs' only Lambda kind).
    Request,
    Jwt,
    CognitoUserPools,
    /// A `FunctionPayloadType` SAM does not know, as written.
    Other(String),
}

impl AuthorizerKind {
    /// The name as SAM and API Gateway write it (`TOKEN`, `REQUEST`, `JWT`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            AuthorizerKind::Token => "TOKEN",
            AuthorizerKind::Request => "REQUEST",
            AuthorizerKind::Jwt => "JWT",
            AuthorizerKind::CognitoUserPools => "COGNITO_USER_POOLS",
            AuthorizerKind::Other(s) => s,
        }
    }

    /// `FunctionPayloadType` as written (exact case, as SAM compares it).
    pub fn of_payload_type(s: String) -> Self {
        match s.as_str() {
            "TOKEN" => AuthorizerKind::Token,
            "REQUEST" => AuthorizerKind::Request,
            _ => AuthorizerKind::Other(s),
        }
    }
}

impl From<AuthorizerKind> for String {
    fn from(k: AuthorizerKind) -> String {
        k.as_str().to_string()
    }
}

/// One Lambda-proxy route of an API.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    pub api_type: ApiType,
    pub api: String,
    pub method: String,
    pub path: String,
    pub function: String,
    pub payload_format_version: String,
    /// `Auth.Authorizer` of the event, as written.
    pub authorizer: Option<String>,
    /// `Auth.AuthorizationScopes` of the event, as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_scopes: Vec<String>,
    /// The OpenAPI `operationId` of the route's operation (REST `requestContext.operationName`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    /// How the route is authorized: its own `Auth.Authorizer`, else the API's
    /// `DefaultAuthorizer`, resolved against the API's `Auth.Authorizers`.
    pub auth: RouteAuth,
    /// `TimeoutInMillis` of the function event that declared the route (also when a
    /// definition supplies the route and the event only names it).
    pub timeout_ms: Option<u32>,
}

/// How a route is authorized.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum RouteAuth {
    /// No authorizer, or `NONE`.
    #[default]
    Open,
    /// `AWS_IAM`.
    Iam,
    /// A Lambda authorizer (`TOKEN` or `REQUEST`) whose function is in this template.
    Lambda(RouteAuthorizer),
    /// A JWT authorizer (HTTP APIs) or a Cognito user-pool authorizer (REST APIs).
    Jwt(RouteJwt),
    /// The name is not under the API's `Auth.Authorizers`.
    Undefined { name: String },
    /// An authorizer ssam cannot emulate (an API key, a function outside the template, a
    /// declaration AWS would reject): the route fails closed; `reason` says why.
    Foreign {
        name: String,
        kind: AuthorizerKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// A JWT or Cognito authorizer a route is protected by, with the route's scopes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteJwt {
    pub authorizer: Authorizer,
    /// `AuthorizationScopes` of the route: the token's `scope` must hold one of them.
    pub scopes: Vec<String>,
}

/// A Lambda authorizer a route is protected by.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteAuthorizer {
    pub authorizer: Authorizer,
    /// Logical id of the authorizer function.
    pub function: String,
}

/// An `AWS::ApiGateway::Method` whose integration is `MOCK`: API Gateway answers it with
/// the integration response its request template's `statusCode` selects (the one whose
/// `SelectionPattern` matches, else the one without a pattern), mapped through
/// `ResponseParameters` ("Set up mock integrations in API Gateway").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MockMethod {
    pub api: String,
    /// Upper-case method, or `ANY`.
    pub method: String,
    pub path: String,
    /// The method response's status code.
    pub status: u16,
    /// `method.response.header.*` mappings, in declaration order.
    pub headers: Vec<(String, MockValue)>,
    /// The `application/json` response template when it is static text (no VTL).
    pub body: Option<String>,
    /// CDK's response template for several allowed origins: when the request's `Origin`
    /// matches one of these (`*` a wildcard), `Access-Control-Allow-Origin` is set to it
    /// (`$context.responseOverride.header.Access-Control-Allow-Origin = $origin`).
    pub echo_origins: Vec<String>,
    pub location: Location,
}

/// Where a mock response header's value comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "camelCase")]
pub enum MockValue {
    /// `'text'`: a static value.
    Literal(String),
    /// `method.request.header.NAME`.
    RequestHeader(String),
    /// `method.request.querystring.NAME`.
    RequestQuery(String),
}

/// An `AWS::S3::Bucket`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bucket {
    pub logical_id: String,
    /// `BucketName`, or the generated name `!Ref` resolves to.
    pub name: String,
    pub name_generated: bool,
    pub versioning: bool,
    /// `CorsConfiguration.CorsRules`, in order (S3 answers with the first rule that
    /// matches); `None` without a CorsConfiguration.
    pub cors: Option<Vec<BucketCorsRule>>,
    pub location: Location,
}

/// One rule of a bucket's `CorsConfiguration.CorsRules` (CloudFormation's `CorsRule`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BucketCorsRule {
    /// `Id`: a name for the rule (at most 255 characters).
    pub id: Option<String>,
    /// `AllowedOrigins`: origins, each with at most one `*` wildcard.
    pub allowed_origins: Vec<String>,
    /// `AllowedMethods`: `GET`, `PUT`, `HEAD`, `POST` or `DELETE`.
    pub allowed_methods: Vec<String>,
    /// `AllowedHeaders`: request headers a preflight may ask for (`*` wildcards allowed).
    pub allowed_headers: Vec<String>,
    /// `ExposedHeaders`: response headers the browser may read.
    pub exposed_headers: Vec<String>,
    /// `MaxAge`: seconds a browser may cache the preflight answer.
    pub max_age: Option<u32>,
}

/// An S3 notification to a function (from a function's S3 event or a bucket's
/// `NotificationConfiguration.LambdaConfigurations`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Binding {
    pub function: String,
    pub bucket: String,
    pub events: Vec<String>,
    pub filter_rules: Vec<FilterRule>,
}

/// `AWS::Serverless::LayerVersion` / `AWS::Lambda::LayerVersion`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Layer {
    pub logical_id: String,
    pub content: Code,
    pub compatible_runtimes: Vec<String>,
    pub build_method: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceSummary {
    pub logical_id: String,
    pub resource_type: String,
    pub location: Location,
    /// The last line the resource's definition uses (in `location`'s file): a diagnostic
    /// between `location` and this line is about this resource.
    #[serde(skip)]
    pub last_line: usize,
}
