//! `--static-dir`: files served as they are for GET and HEAD requests no route matched (SAM
//! CLI's `public/` convention), with a content type from the file's extension.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::{HeaderValue, Response};
use http_body_util::Full;

/// The file under `dir` a request path names, or `None` (not GET/HEAD, no such file). The
/// path is percent-decoded and `.`/`..` segments are dropped, so nothing outside `dir` is
/// served.
pub async fn serve(dir: &Path, method: &str, raw_path: &str) -> Option<Response<Full<Bytes>>> {
    if method != "GET" && method != "HEAD" {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .ok()?;
    let rel: PathBuf = decoded
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    let mut path = dir.join(rel);
    if path.is_dir() {
        path = path.join("index.html");
    }
    let bytes = tokio::fs::read(&path).await.ok()?;
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    if let Ok(v) = HeaderValue::from_str(content_type_for(&path)) {
        resp.headers_mut().insert("content-type", v);
    }
    Some(resp)
}

fn content_type_for(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}
