//! A Rust function built with AWS's `lambda_runtime` crate, run by the tests as a
//! `provided.al2023` bootstrap against ssam's Runtime API.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Request {
    name: Option<String>,
    fail: Option<bool>,
}

#[derive(Serialize)]
struct Response {
    hello: String,
    request_id: String,
    function_arn: String,
    remaining_ms: u128,
}

async fn handler(event: LambdaEvent<Request>) -> Result<Response, Error> {
    if event.payload.fail == Some(true) {
        return Err("rust boom".into());
    }
    let remaining = event
        .context
        .deadline()
        .duration_since(std::time::SystemTime::now())
        .map(|d| d.as_millis())
        .unwrap_or(0);
    Ok(Response {
        hello: event.payload.name.unwrap_or_else(|| "world".into()),
        request_id: event.context.request_id,
        function_arn: event.context.invoked_function_arn,
        remaining_ms: remaining,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
