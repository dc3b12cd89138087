//! The embedded Node bootstrap: async and callback handlers, errors, streaming.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use ssam_lambda::{FailureKind, InvokeRequest, StreamEvent};

#[tokio::test]
async fn async_handler_with_context() {
    let mut spec = node_fn("NodeHello", "app.handler");
    spec.env.insert("MY_VAR".into(), "v".into());
    let svc = service(vec![spec]);
    let resp = svc
        .invoke(InvokeRequest::new("NodeHello", r#"{"name":"node"}"#))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), None, "{:?}", resp.payload);
    let v = json(&resp.payload);
    assert_eq!(v["hello"], "node");
    assert_eq!(v["functionName"], "NodeHello");
    assert_eq!(v["requestId"], resp.request_id.as_str());
    assert_eq!(v["remainingOk"], true);
    assert_eq!(v["myVar"], "v");
    svc.shutdown().await;
}

#[tokio::test]
async fn callback_handlers() {
    let svc = service(vec![
        node_fn("Cb", "app.callback"),
        node_fn("CbFail", "app.callbackFail"),
    ]);
    let resp = svc
        .invoke(InvokeRequest::new("Cb", r#"{"name":"x"}"#))
        .await
        .expect("invoke");
    assert_eq!(json(&resp.payload)["via"], "callback");
    let resp = svc
        .invoke(InvokeRequest::new("CbFail", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), Some("Unhandled"));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Error");
    assert_eq!(v["errorMessage"], "cb boom");
    svc.shutdown().await;
}

#[tokio::test]
async fn errors_have_node_shape() {
    let svc = service(vec![
        node_fn("NFail", "app.fail"),
        node_fn("NMissing", "app.nope"),
    ]);
    let resp = svc
        .invoke(InvokeRequest::new("NFail", "{}"))
        .await
        .expect("invoke");
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "TypeError");
    assert_eq!(v["errorMessage"], "node boom");
    assert!(v["trace"].as_array().is_some_and(|t| !t.is_empty()));
    let resp = svc
        .invoke(InvokeRequest::new("NMissing", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.failure, Some(FailureKind::Init));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.HandlerNotFound");
    assert_eq!(v["errorMessage"], "app.nope is undefined or not exported");
    svc.shutdown().await;
}

#[tokio::test]
async fn missing_module_is_import_error() {
    let svc = service(vec![node_fn("NoMod", "nothere.handler")]);
    let resp = svc
        .invoke(InvokeRequest::new("NoMod", "{}"))
        .await
        .expect("invoke");
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.ImportModuleError");
    assert_eq!(v["errorMessage"], "Error: Cannot find module 'nothere'");
}

#[tokio::test]
async fn streamed_response_arrives_in_chunks() {
    let svc = service(vec![
        node_fn("Stream", "app.stream"),
        node_fn("StreamFail", "app.streamFail"),
    ]);
    let mut s = svc
        .invoke_stream(InvokeRequest::new("Stream", "{}"))
        .await
        .expect("invoke");
    assert_eq!(s.content_type.as_deref(), Some("text/plain"));
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(ev) = s.body.recv().await {
        match ev {
            StreamEvent::Chunk(c) => {
                chunks += 1;
                body.extend_from_slice(&c);
            }
            StreamEvent::Error { error_type, .. } => panic!("error {error_type}"),
        }
    }
    assert_eq!(String::from_utf8(body).unwrap(), "chunk0;chunk1;chunk2;");
    assert!(chunks >= 2, "streamed, not buffered: {chunks} chunk(s)");
    // The buffered API collects a stream into one payload.
    let resp = svc
        .invoke(InvokeRequest::new("Stream", "{}"))
        .await
        .expect("invoke");
    assert_eq!(&resp.payload[..], b"chunk0;chunk1;chunk2;");
    // Error trailers end the stream with the function's error.
    let resp = svc
        .invoke(InvokeRequest::new("StreamFail", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), Some("Unhandled"));
    assert_eq!(json(&resp.payload)["errorMessage"], "stream boom");
    svc.shutdown().await;
}

/// `context.callbackWaitsForEmptyEventLoop` (true by default): a callback handler's
/// response is sent once the Node.js event loop is empty, so a pending timer runs first;
/// set to false, the response is sent when the callback is called.
/// <https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html>, and AWS's Node
/// runtime client (`CallbackContext.js`: the response is posted from a `beforeExit` listener).
#[tokio::test]
async fn callback_waits_for_an_empty_event_loop_unless_told_not_to() {
    let svc = service(vec![node_fn("Wait", "app.callbackPendingTimer")]);
    let t = Instant::now();
    let resp = svc
        .invoke(InvokeRequest::new("Wait", r#"{"ms": 400}"#))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), None, "{:?}", resp.payload);
    assert_eq!(
        json(&resp.payload)["timerFired"],
        true,
        "waited for the timer"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    let resp = svc
        .invoke(InvokeRequest::new("Wait", r#"{"ms": 400, "wait": false}"#))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), None, "{:?}", resp.payload);
    assert!(resp.init_duration.is_none(), "the same instance");
    assert_eq!(
        json(&resp.payload)["timerFired"],
        false,
        "answered at the callback"
    );
    svc.shutdown().await;
}

/// A promise rejection nobody handles fails the invocation as AWS's Node runtime reports
/// it: `Runtime.UnhandledPromiseRejection`, the rejection reason as its message (the
/// runtime client's `Errors.js`: `class UnhandledPromiseRejection extends Error {
/// constructor(reason) { super(reason) } }`), and the runtime exits after posting it
/// (`index.mjs`), so the next invocation starts a new one.
#[tokio::test]
async fn unhandled_rejection_is_runtime_unhandled_promise_rejection() {
    let svc = service(vec![node_fn("Reject", "app.unhandledRejection")]);
    let resp = svc
        .invoke(InvokeRequest::new("Reject", "{}"))
        .await
        .expect("invoke");
    assert_eq!(resp.function_error(), Some("Unhandled"));
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.UnhandledPromiseRejection", "{v}");
    assert_eq!(v["errorMessage"], "Error: rejected boom", "{v}");
    assert_eq!(
        v["trace"][0], "Runtime.UnhandledPromiseRejection: Error: rejected boom",
        "{v}"
    );
    let resp = svc
        .invoke(InvokeRequest::new("Reject", r#"{"reason": "string"}"#))
        .await
        .expect("invoke");
    assert!(
        resp.init_duration.is_some(),
        "the runtime exited: a new one"
    );
    let v = json(&resp.payload);
    assert_eq!(v["errorType"], "Runtime.UnhandledPromiseRejection", "{v}");
    assert_eq!(v["errorMessage"], "plain reason", "{v}");
    svc.shutdown().await;
}
