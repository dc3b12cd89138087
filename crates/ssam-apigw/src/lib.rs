//! API Gateway emulator: serves a template's HTTP and REST APIs on top of the Lambda
//! service, the way API Gateway does.
//!
//! Code map:
//! - [`pipeline`]: one request's stages (preflight → route → body → authorize → event →
//!   invoke → respond), each failure logged and answered in one place; [`request`]: the
//!   request as the stages hold it (hyper's `HeaderMap` kept) and the headers API Gateway adds.
//! - [`routes`]: the route table and API Gateway's matching precedence, stage prefixes.
//! - [`event`]: v1 / v2 events, built with ssam-events' constructors.
//! - [`response`]: the function's result mapped to an HTTP response (or why it cannot be).
//! - [`errors`]: the gateway's own answers, as each API type writes them.
//! - [`binary`]: which bodies travel base64-encoded.
//! - [`cors`]: preflights answered by the gateway, CORS headers on responses.
//! - [`authorizer`]: Lambda authorizers with their TTL cache; [`jwt`]: JWT and Cognito
//!   user-pool authorizers (claims, scopes, RS256 signatures with `--jwks`); [`iam`]:
//!   `AWS_IAM` routes (a SigV4 signature required, recomputed when the secret is given).
//! - [`functions`]: one Lambda service per function, queueing, the integration timeout.
//! - [`gateway`]: the configuration requests are served with, reloads, `Mounting` lines;
//!   [`server`]: the HTTP server; [`header_case`]: header names as the client spelled them;
//!   [`http10`]: HTTP/1.0 clients answered with an HTTP/1.1 status line.
//! - [`static_files`]: the files of `--static-dir`.
//! - [`reload`]: file watching for hot reload.

pub mod authorizer;
pub mod binary;
pub mod cors;
pub mod errors;
pub mod event;
pub mod function_url;
pub mod functions;
pub mod gateway;
pub mod header_case;
mod http10;
pub mod iam;
pub mod ids;
pub mod jwt;
pub mod pipeline;
pub mod reload;
pub mod request;
pub mod response;
pub mod routes;
pub mod server;
pub mod static_files;

pub use errors::GatewayError;
pub use gateway::{Gateway, GatewayOptions, Mount};
pub use pipeline::PAYLOAD_MAX;
pub use server::serve;
