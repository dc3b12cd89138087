//! Requests signed by botocore's `SigV4Auth` (the signer the AWS SDKs for Python use), sent
//! with urllib, for the tests of `AWS_IAM` routes and function URLs: signed with the right
//! or a wrong secret, spoiled after signing, or signed with a clock that is off; in the
//! `Authorization` header or presigned in the query.

/// What to change after signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    None,
    /// `&extra=1` appended to the query.
    Query,
    /// A byte appended to the body.
    Body,
}

/// One request.
#[derive(Clone, Debug)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub url: String,
    pub body: Option<&'a str>,
    /// Access key and secret; `None`: sent unsigned.
    pub credentials: Option<(&'a str, &'a str)>,
    /// `execute-api`, or `lambda` for function URLs.
    pub service: &'a str,
    pub tamper: Tamper,
    /// The signer's clock is this many minutes behind.
    pub minutes_ago: i64,
    /// Presigned: the signature in the query (botocore's `SigV4QueryAuth`), valid this many
    /// seconds, instead of the `Authorization` header.
    pub presigned_for: Option<u64>,
}

impl<'a> Signed<'a> {
    pub fn get(url: String, service: &'a str, key: &'a str, secret: &'a str) -> Signed<'a> {
        Signed {
            method: "GET",
            url,
            body: None,
            credentials: Some((key, secret)),
            service,
            tamper: Tamper::None,
            minutes_ago: 0,
            presigned_for: None,
        }
    }
}

/// The answer: status, body, `x-amzn-ErrorType` ("" when absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub error_type: String,
}

/// Signs and sends each request in one Python process.
pub fn send(requests: &[Signed<'_>]) -> Vec<Answer> {
    let cases: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| {
            serde_json::json!({
                "method": r.method,
                "url": r.url,
                "body": r.body,
                "key": r.credentials.map(|c| c.0),
                "secret": r.credentials.map(|c| c.1),
                "service": r.service,
                "tamper": match r.tamper { Tamper::None => "", Tamper::Query => "query", Tamper::Body => "body" },
                "minutes_ago": r.minutes_ago,
                "presigned_for": r.presigned_for,
            })
        })
        .collect();
    let script = r#"
import datetime, json, os, urllib.error, urllib.request
import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
real_now = botocore.auth.get_current_datetime
out = []
for c in json.loads(os.environ["SIGV4_CASES"]):
    url, headers = c["url"], {}
    data = c["body"].encode() if c["body"] is not None else None
    if c["secret"] is not None:
        skew = datetime.timedelta(minutes=c["minutes_ago"])
        botocore.auth.get_current_datetime = lambda: real_now() - skew
        req = AWSRequest(method=c["method"], url=url, data=data)
        creds = Credentials(c["key"], c["secret"])
        if c["presigned_for"] is not None:
            SigV4QueryAuth(creds, c["service"], "us-east-1", expires=c["presigned_for"]).add_auth(req)
        else:
            SigV4Auth(creds, c["service"], "us-east-1").add_auth(req)
        url, headers = req.url, dict(req.headers.items())
    if c["tamper"] == "query":
        url += ("&" if "?" in url else "?") + "extra=1"
    if c["tamper"] == "body":
        data = (data or b"") + b"!"
    r = urllib.request.Request(url, data=data, method=c["method"], headers=headers)
    try:
        resp = urllib.request.urlopen(r, timeout=60)
        out.append([resp.status, resp.read().decode(), resp.headers.get("x-amzn-errortype") or ""])
    except urllib.error.HTTPError as e:
        out.append([e.code, e.read().decode(), e.headers.get("x-amzn-errortype") or ""])
print(json.dumps(out))
"#;
    let cases = serde_json::Value::Array(cases).to_string();
    let out = crate::run_python(script, &[("SIGV4_CASES", &cases)]);
    let answers: Vec<(u16, String, String)> =
        serde_json::from_slice(&out.stdout).expect("the signer's answers as JSON");
    answers
        .into_iter()
        .map(|(status, body, error_type)| Answer {
            status,
            body,
            error_type,
        })
        .collect()
}
