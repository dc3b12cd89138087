//! End-to-end: the real aws cli, boto3 and curl against an in-process server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{curl, Server};
use ssam_s3::{BucketSpec, CorsRule, S3Config};

#[test]
fn aws_cli_mb_cp_ls_sync_rm_presign() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    assert!(s
        .aws_ok(&["s3", "mb", "s3://help-me-sam"])
        .contains("make_bucket: help-me-sam"));
    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("nested/deeper")).unwrap();
    std::fs::write(files.join("a.txt"), "alpha").unwrap();
    std::fs::write(files.join("nested/b.txt"), "beta").unwrap();
    std::fs::write(files.join("nested/deeper/c.txt"), "gamma").unwrap();
    let a = files.join("a.txt");
    s.aws_ok(&[
        "s3",
        "cp",
        a.to_str().unwrap(),
        "s3://help-me-sam/single/a.txt",
    ]);
    s.aws_ok(&[
        "s3",
        "sync",
        files.to_str().unwrap(),
        "s3://help-me-sam/synced",
    ]);
    let ls = s.aws_ok(&["s3", "ls", "s3://help-me-sam/synced/", "--recursive"]);
    for k in [
        "synced/a.txt",
        "synced/nested/b.txt",
        "synced/nested/deeper/c.txt",
    ] {
        assert!(ls.contains(k), "{k} missing from:\n{ls}");
    }
    // A second sync has nothing to do.
    let again = s.aws_ok(&[
        "s3",
        "sync",
        files.to_str().unwrap(),
        "s3://help-me-sam/synced",
    ]);
    assert!(!again.contains("upload:"), "{again}");
    let top = s.aws_ok(&["s3", "ls", "s3://help-me-sam/"]);
    assert!(
        top.contains("PRE single/") && top.contains("PRE synced/"),
        "{top}"
    );
    let got = s.aws_ok(&[
        "s3",
        "cp",
        "s3://help-me-sam/synced/nested/deeper/c.txt",
        "-",
    ]);
    assert_eq!(got, "gamma");
    let url = s.aws_ok(&[
        "s3",
        "presign",
        "s3://help-me-sam/single/a.txt",
        "--expires-in",
        "300",
    ]);
    let out = curl(&["-s", "-f", url.trim()]);
    assert!(out.status.success(), "presigned GET failed: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "alpha");
    let down = dir.path().join("down");
    s.aws_ok(&[
        "s3",
        "sync",
        "s3://help-me-sam/synced",
        down.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(down.join("nested/b.txt")).unwrap(),
        "beta"
    );
    s.aws_ok(&["s3", "rm", "s3://help-me-sam", "--recursive"]);
    assert_eq!(
        s.aws_ok(&["s3", "ls", "s3://help-me-sam", "--recursive"])
            .trim(),
        ""
    );
    s.aws_ok(&["s3", "rb", "s3://help-me-sam"]);
    assert!(!s.aws_ok(&["s3", "ls"]).contains("help-me-sam"));
}

#[test]
fn boto3_multipart_upload_of_100_mb() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
from boto3.s3.transfer import TransferConfig
s3.create_bucket(Bucket="big")
data = os.urandom(100 * 1024 * 1024)
path = os.path.join(os.environ["TMP"], "big.bin")
open(path, "wb").write(data)
cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)
s3.upload_file(path, "big", "blob.bin", Config=cfg)
head = s3.head_object(Bucket="big", Key="blob.bin")
assert head["ContentLength"] == len(data), head
assert head["ETag"].endswith('-13"'), head["ETag"]
s3.download_file("big", "blob.bin", path + ".back", Config=cfg)
assert hashlib.md5(open(path + ".back", "rb").read()).hexdigest() == hashlib.md5(data).hexdigest()
part2 = s3.get_object(Bucket="big", Key="blob.bin", PartNumber=2)
assert part2["ContentLength"] == 8 * 1024 * 1024 and part2["PartsCount"] == 13
assert part2["Body"].read() == data[8 * 1024 * 1024:16 * 1024 * 1024]
assert s3.list_multipart_uploads(Bucket="big").get("Uploads", []) == []
print("ok")
"#,
    );
    // The TMP env is set below; keep the assertion on the script's own verdict.
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn multipart_errors_and_listing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
s3.create_bucket(Bucket="mpu")
up = s3.create_multipart_upload(Bucket="mpu", Key="k", Metadata={"a": "1"})["UploadId"]
small = s3.upload_part(Bucket="mpu", Key="k", UploadId=up, PartNumber=1, Body=b"x" * 100)
last = s3.upload_part(Bucket="mpu", Key="k", UploadId=up, PartNumber=2, Body=b"y" * 100)
parts = s3.list_parts(Bucket="mpu", Key="k", UploadId=up)["Parts"]
assert [p["PartNumber"] for p in parts] == [1, 2]
uploads = s3.list_multipart_uploads(Bucket="mpu")["Uploads"]
assert [u["UploadId"] for u in uploads] == [up]
p = [{"PartNumber": 1, "ETag": small["ETag"]}, {"PartNumber": 2, "ETag": last["ETag"]}]
assert err_code(s3.complete_multipart_upload, Bucket="mpu", Key="k", UploadId=up, MultipartUpload={"Parts": p}) == ("EntityTooSmall", 400)
assert err_code(s3.complete_multipart_upload, Bucket="mpu", Key="k", UploadId=up, MultipartUpload={"Parts": p[::-1]}) == ("InvalidPartOrder", 400)
bad = [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]
assert err_code(s3.complete_multipart_upload, Bucket="mpu", Key="k", UploadId=up, MultipartUpload={"Parts": bad}) == ("InvalidPart", 400)
s3.abort_multipart_upload(Bucket="mpu", Key="k", UploadId=up)
assert err_code(s3.list_parts, Bucket="mpu", Key="k", UploadId=up) == ("NoSuchUpload", 404)
# UploadPartCopy of a range, then complete with a single part.
s3.put_object(Bucket="mpu", Key="src", Body=b"0123456789")
up = s3.create_multipart_upload(Bucket="mpu", Key="dst")["UploadId"]
cp = s3.upload_part_copy(Bucket="mpu", Key="dst", UploadId=up, PartNumber=1, CopySource={"Bucket": "mpu", "Key": "src"}, CopySourceRange="bytes=2-5")
done = s3.complete_multipart_upload(Bucket="mpu", Key="dst", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": cp["CopyPartResult"]["ETag"]}]})
assert done["ETag"].endswith('-1"')
assert s3.get_object(Bucket="mpu", Key="dst")["Body"].read() == b"2345"
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn presigned_put_with_curl_upload_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let url = s.python(
        r#"
s3.create_bucket(Bucket="uploads")
print(s3.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": "from-curl.txt"}, ExpiresIn=300))
"#,
    );
    let file = dir.path().join("payload.txt");
    std::fs::write(&file, "uploaded by curl\n").unwrap();
    let out = curl(&[
        "-s",
        "-f",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--upload-file",
        file.to_str().unwrap(),
        url.trim(),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{out:?}");
    let body = s.python(r#"print(s3.get_object(Bucket="uploads", Key="from-curl.txt")["Body"].read().decode(), end="")"#);
    assert_eq!(body, "uploaded by curl\n");
}

#[test]
fn expired_presign_is_403_access_denied() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let url = s.python(
        r#"
s3.create_bucket(Bucket="exp")
s3.put_object(Bucket="exp", Key="k", Body=b"secret")
v4 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], config=Config(signature_version="s3v4"))
print(v4.generate_presigned_url("get_object", Params={"Bucket": "exp", "Key": "k"}, ExpiresIn=1))
print(s3.generate_presigned_url("get_object", Params={"Bucket": "exp", "Key": "k"}, ExpiresIn=1))
"#,
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    // Both SigV4 (X-Amz-Expires) and SigV2 (Expires) presigned URLs.
    for url in url.lines() {
        let out = curl(&["-s", "-w", "\n%{http_code}", url.trim()]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.ends_with("\n403"), "{url}: {text}");
        assert!(
            text.contains("<Code>AccessDenied</Code>") && text.contains("Request has expired"),
            "{text}"
        );
    }
    // More than seven days is refused outright, as S3 does.
    let long = s.python(
        r#"print(boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], config=Config(signature_version="s3v4")).generate_presigned_url("get_object", Params={"Bucket": "exp", "Key": "k"}, ExpiresIn=604801))"#,
    );
    let out = curl(&["-s", "-w", "\n%{http_code}", long.trim()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.ends_with("\n403") && text.contains("AccessDenied"),
        "{text}"
    );
}

#[test]
fn strict_auth_rejects_a_wrong_secret_and_an_unknown_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(S3Config {
        data_dir: dir.path().join("data"),
        strict_auth: true,
        credentials: vec![("AKIDEXAMPLE".into(), "right-secret".into())],
        ..Default::default()
    });
    let out = s.python_with(
        r#"
good = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="right-secret")
good.create_bucket(Bucket="strict")
good.put_object(Bucket="strict", Key="k", Body=b"v")
wrong = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="wrong-secret")
assert err_code(wrong.get_object, Bucket="strict", Key="k") == ("SignatureDoesNotMatch", 403), "wrong secret"
assert err_code(wrong.put_object, Bucket="strict", Key="k2", Body=b"x") == ("SignatureDoesNotMatch", 403)
unknown = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], aws_access_key_id="NOBODY", aws_secret_access_key="x")
assert err_code(unknown.list_buckets) == ("InvalidAccessKeyId", 403)
url = wrong.generate_presigned_url("get_object", Params={"Bucket": "strict", "Key": "k"})
import urllib.request, urllib.error
try:
    urllib.request.urlopen(url)
    raise AssertionError("forged presigned url accepted")
except urllib.error.HTTPError as e:
    assert e.code == 403 and b"SignatureDoesNotMatch" in e.read()
assert good.get_object(Bucket="strict", Key="k")["Body"].read() == b"v"
print("ok")
"#,
        &[],
    );
    assert!(out.contains("ok"), "{out}");
    // Anonymous requests are refused too.
    let out = curl(&[
        "-s",
        "-w",
        "\n%{http_code}",
        &format!("{}/strict/k", s.endpoint),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("\n403"));
}

#[test]
fn hostile_keys_stay_inside_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
s3.create_bucket(Bucket="hostile")
keys = ["../../../../etc/passwd", "/abs/path", "..", "a/../../b", "nul\x00byte", "back\\slash\\..\\..", "k" * 1024, "%2e%2e/x", "\u00e9t\u00e9/\u2603"]
for k in keys:
    s3.put_object(Bucket="hostile", Key=k, Body=k.encode())
for k in keys:
    assert s3.get_object(Bucket="hostile", Key=k)["Body"].read() == k.encode(), k
listed = [o["Key"] for o in s3.list_objects_v2(Bucket="hostile")["Contents"]]
assert sorted(listed) == sorted(keys), listed
assert err_code(s3.put_object, Bucket="hostile", Key="k" * 1025, Body=b"x")[0] == "KeyTooLongError"
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
    // Nothing was written outside the data directory.
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("data")]);
    for e in walk(&dir.path().join("data")) {
        let name = e.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.contains("passwd") && !name.contains("abs") && !name.contains("kkkk"),
            "key leaked into a path: {e:?}"
        );
    }
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn restart_keeps_every_object() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::in_dir(dir.path());
    s.python(
        r#"
s3.create_bucket(Bucket="keep")
s3.put_bucket_versioning(Bucket="keep", VersioningConfiguration={"Status": "Enabled"})
for i in range(200):
    s3.put_object(Bucket="keep", Key=f"dir{i % 7}/obj{i:04}", Body=f"body {i}".encode(), Metadata={"n": str(i)}, Tagging=f"i={i}")
s3.put_object(Bucket="keep", Key="dir0/obj0000", Body=b"second version")
s3.delete_object(Bucket="keep", Key="dir1/obj0001")
up = s3.create_multipart_upload(Bucket="keep", Key="pending")["UploadId"]
s3.upload_part(Bucket="keep", Key="pending", UploadId=up, PartNumber=1, Body=b"p1")
open(os.environ["TMP"] + "/upload_id", "w").write(up)
"#,
    );
    s.stop();
    let s2 = Server::start(S3Config {
        data_dir: dir.path().join("data"),
        ..Default::default()
    });
    let out = s2.python(
        r#"
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="keep", PaginationConfig={"PageSize": 50}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert len(keys) == 199, len(keys)
for i in range(2, 200):
    k = f"dir{i % 7}/obj{i:04}"
    o = s3.get_object(Bucket="keep", Key=k)
    assert o["Body"].read() == f"body {i}".encode() and o["Metadata"] == {"n": str(i)}, k
    assert s3.get_object_tagging(Bucket="keep", Key=k)["TagSet"] == [{"Key": "i", "Value": str(i)}]
assert s3.get_object(Bucket="keep", Key="dir0/obj0000")["Body"].read() == b"second version"
versions = s3.list_object_versions(Bucket="keep", Prefix="dir0/obj0000")["Versions"]
assert len(versions) == 2
assert s3.get_bucket_versioning(Bucket="keep")["Status"] == "Enabled"
up = open(os.environ["TMP"] + "/upload_id").read()
assert [p["PartNumber"] for p in s3.list_parts(Bucket="keep", Key="pending", UploadId=up)["Parts"]] == [1]
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn virtual_host_addressing_and_cors_preflight() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(S3Config {
        data_dir: dir.path().join("data"),
        buckets: vec![BucketSpec {
            name: "web-uploads".into(),
            versioning: false,
            cors: Some(vec![CorsRule {
                allowed_origins: vec!["http://localhost:3000".into()],
                allowed_methods: vec!["PUT".into(), "GET".into()],
                allowed_headers: vec!["*".into()],
                expose_headers: vec!["ETag".into()],
                max_age_seconds: Some(600),
            }]),
        }],
        ..Default::default()
    });
    let port = s.running.as_ref().unwrap().local_addr().port();
    let host = format!("Host: web-uploads.localhost:{port}");
    let put = curl(&[
        "-s",
        "-f",
        "-X",
        "PUT",
        "--data-binary",
        "vhost body",
        "-H",
        &host,
        &format!("{}/greeting.txt", s.endpoint),
    ]);
    assert!(put.status.success(), "{put:?}");
    let get = curl(&[
        "-s",
        "-f",
        &format!("{}/web-uploads/greeting.txt", s.endpoint),
    ]);
    assert_eq!(String::from_utf8_lossy(&get.stdout), "vhost body");

    let pre = curl(&[
        "-s",
        "-i",
        "-X",
        "OPTIONS",
        "-H",
        "Origin: http://localhost:3000",
        "-H",
        "Access-Control-Request-Method: PUT",
        "-H",
        "Access-Control-Request-Headers: content-type",
        &format!("{}/web-uploads/upload.bin", s.endpoint),
    ]);
    let text = String::from_utf8_lossy(&pre.stdout).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(
        text.contains("access-control-allow-origin: http://localhost:3000"),
        "{text}"
    );
    assert!(
        text.contains("access-control-allow-methods: put, get"),
        "{text}"
    );
    assert!(text.contains("access-control-max-age: 600"), "{text}");
    let denied = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "OPTIONS",
        "-H",
        "Origin: http://evil.example",
        "-H",
        "Access-Control-Request-Method: PUT",
        &format!("{}/web-uploads/upload.bin", s.endpoint),
    ]);
    assert_eq!(String::from_utf8_lossy(&denied.stdout), "403");
    let actual = curl(&[
        "-s",
        "-i",
        "-H",
        "Origin: http://localhost:3000",
        &format!("{}/web-uploads/greeting.txt", s.endpoint),
    ]);
    let text = String::from_utf8_lossy(&actual.stdout).to_ascii_lowercase();
    assert!(
        text.contains("access-control-allow-origin: http://localhost:3000")
            && text.contains("access-control-expose-headers: etag"),
        "{text}"
    );
}

#[test]
fn browser_post_upload_with_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(S3Config {
        data_dir: dir.path().join("data"),
        ..Default::default()
    });
    // POST policies are signed: the default credential (test/test) is known to the server.
    let out = s.python_with(
        r#"
c = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], aws_access_key_id="test", aws_secret_access_key="test")
c.create_bucket(Bucket="posts")
p = c.generate_presigned_post("posts", "user/${filename}", Conditions=[["content-length-range", 1, 100], ["starts-with", "$key", "user/"]], ExpiresIn=300)
p["fields"]["key"] = "user/photo.txt"
print(json.dumps(p))
"#,
        &[],
    );
    let post: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let mut args: Vec<String> = vec!["-s".into(), "-w".into(), "\n%{http_code}".into()];
    for (k, v) in post["fields"].as_object().unwrap() {
        args.push("-F".into());
        args.push(format!("{k}={}", v.as_str().unwrap()));
    }
    let file = dir.path().join("photo.txt");
    std::fs::write(&file, "posted!").unwrap();
    let mut ok_args = args.clone();
    ok_args.extend([
        "-F".into(),
        format!("file=@{}", file.display()),
        post["url"].as_str().unwrap().to_owned(),
    ]);
    let ok = curl(&ok_args.iter().map(String::as_str).collect::<Vec<_>>());
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(text.ends_with("\n204"), "{text}");
    let body = s.python(r#"print(s3.get_object(Bucket="posts", Key="user/photo.txt")["Body"].read().decode(), end="")"#);
    assert_eq!(body, "posted!");
    // Over the policy's content-length-range.
    std::fs::write(&file, vec![b'x'; 500]).unwrap();
    let mut big_args = args.clone();
    big_args.extend([
        "-F".into(),
        format!("file=@{}", file.display()),
        post["url"].as_str().unwrap().to_owned(),
    ]);
    let big = curl(&big_args.iter().map(String::as_str).collect::<Vec<_>>());
    let text = String::from_utf8_lossy(&big.stdout);
    assert!(
        text.ends_with("\n400") && text.contains("EntityTooLarge"),
        "{text}"
    );
}

#[test]
fn conditional_and_range_reads_copy_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
import datetime
s3.create_bucket(Bucket="cond")
etag = s3.put_object(Bucket="cond", Key="k", Body=b"0123456789", ContentType="text/plain", Metadata={"Owner": "me"}, CacheControl="max-age=60")["ETag"]
o = s3.get_object(Bucket="cond", Key="k", Range="bytes=-3")
assert o["Body"].read() == b"789" and o["ContentRange"] == "bytes 7-9/10"
assert err_code(s3.get_object, Bucket="cond", Key="k", Range="bytes=20-30") == ("InvalidRange", 416)
assert err_code(s3.get_object, Bucket="cond", Key="k", IfMatch='"nope"') == ("PreconditionFailed", 412)
assert err_code(s3.get_object, Bucket="cond", Key="k", IfNoneMatch=etag) == ("304", 304)
future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
assert err_code(s3.get_object, Bucket="cond", Key="k", IfModifiedSince=future) == ("304", 304)
h = s3.head_object(Bucket="cond", Key="k")
assert h["ContentType"] == "text/plain" and h["CacheControl"] == "max-age=60" and h["Metadata"]["owner"] == "me", h
# Conditional write: If-None-Match: * refuses to overwrite.
assert err_code(s3.put_object, Bucket="cond", Key="k", Body=b"x", IfNoneMatch="*") == ("PreconditionFailed", 412)
# Copy keeps metadata by default, replaces it with REPLACE.
s3.copy_object(Bucket="cond", Key="copy", CopySource={"Bucket": "cond", "Key": "k"})
assert s3.head_object(Bucket="cond", Key="copy")["Metadata"]["owner"] == "me"
s3.copy_object(Bucket="cond", Key="copy2", CopySource="cond/k", MetadataDirective="REPLACE", Metadata={"new": "yes"}, ContentType="application/json")
h = s3.head_object(Bucket="cond", Key="copy2")
assert h["Metadata"] == {"new": "yes"} and h["ContentType"] == "application/json" and h["ETag"] == etag
assert err_code(s3.copy_object, Bucket="cond", Key="k", CopySource="cond/k")[0] == "InvalidRequest"
import base64
bad_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
assert err_code(s3.put_object, Bucket="cond", Key="m", Body=b"data", ContentMD5=bad_md5) == ("BadDigest", 400)
assert err_code(s3.put_object, Bucket="cond", Key="c", Body=b"data", ChecksumSHA256=base64.b64encode(hashlib.sha256(b"x").digest()).decode())[0] == "BadDigest"
r = s3.put_object(Bucket="cond", Key="c", Body=b"data", ChecksumAlgorithm="SHA256")
assert r["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"data").digest()).decode()
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn listing_v1_v2_delimiters_pagination_and_url_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
s3.create_bucket(Bucket="list")
keys = ["asdf+b", "foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "quux bla", "a/1", "a/2", "b"]
for k in keys:
    s3.put_object(Bucket="list", Key=k, Body=b"")
r = s3.list_objects_v2(Bucket="list", Delimiter="/", EncodingType="url")
assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "foo%2B1/", "foo/", "quux%20ab/"], r["CommonPrefixes"]
r = s3.list_objects(Bucket="list", MaxKeys=2)
assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2"] and r["IsTruncated"]
r = s3.list_objects(Bucket="list", Marker="a/2", Delimiter="/", MaxKeys=2)
assert r["Marker"] == "a/2" and [o["Key"] for o in r["Contents"]] == ["asdf+b", "b"] and r["NextMarker"] == "b"
r = s3.list_objects_v2(Bucket="list", MaxKeys=0)
assert r["KeyCount"] == 0 and not r["IsTruncated"]
r = s3.list_objects_v2(Bucket="list", StartAfter="foo", Prefix="foo")
assert [o["Key"] for o in r["Contents"]] == ["foo+1/bar", "foo/bar/xyzzy"]
seen = []
token = None
while True:
    kw = {"ContinuationToken": token} if token else {}
    r = s3.list_objects_v2(Bucket="list", MaxKeys=3, **kw)
    seen += [o["Key"] for o in r.get("Contents", [])]
    if not r["IsTruncated"]:
        break
    token = r["NextContinuationToken"]
assert seen == sorted(keys), seen
r = s3.list_objects_v2(Bucket="list", Delimiter="/", MaxKeys=2)
assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/"] and [o["Key"] for o in r["Contents"]] == ["asdf+b"]
r2 = s3.list_objects_v2(Bucket="list", Delimiter="/", MaxKeys=2, ContinuationToken=r["NextContinuationToken"])
assert [o["Key"] for o in r2.get("Contents", [])] == ["b"] and [p["Prefix"] for p in r2["CommonPrefixes"]] == ["foo+1/"], r2
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn bucket_configuration_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
s3.create_bucket(Bucket="cfg-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
assert s3.get_bucket_location(Bucket="cfg-eu")["LocationConstraint"] == "eu-west-1"
assert err_code(s3.create_bucket, Bucket="cfg-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}) == ("BucketAlreadyOwnedByYou", 409)
s3.create_bucket(Bucket="cfg-us")
s3.create_bucket(Bucket="cfg-us")  # us-east-1 answers a re-create of your own bucket with 200
assert err_code(s3.head_bucket, Bucket="missing-bucket") == ("404", 404)
s3.put_bucket_tagging(Bucket="cfg-eu", Tagging={"TagSet": [{"Key": "team", "Value": "sam"}]})
assert s3.get_bucket_tagging(Bucket="cfg-eu")["TagSet"] == [{"Key": "team", "Value": "sam"}]
s3.delete_bucket_tagging(Bucket="cfg-eu")
assert err_code(s3.get_bucket_tagging, Bucket="cfg-eu")[0] == "NoSuchTagSet"
cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAgeSeconds": 30}]}
s3.put_bucket_cors(Bucket="cfg-eu", CORSConfiguration=cors)
assert s3.get_bucket_cors(Bucket="cfg-eu")["CORSRules"][0]["AllowedOrigins"] == ["*"]
s3.delete_bucket_cors(Bucket="cfg-eu")
assert err_code(s3.get_bucket_cors, Bucket="cfg-eu")[0] == "NoSuchCORSConfiguration"
n = {"LambdaFunctionConfigurations": [{"Id": "thumbs", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:thumbs", "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}}}]}
s3.put_bucket_notification_configuration(Bucket="cfg-eu", NotificationConfiguration=n)
got = s3.get_bucket_notification_configuration(Bucket="cfg-eu")["LambdaFunctionConfigurations"][0]
assert got["LambdaFunctionArn"].endswith(":thumbs") and got["Events"] == ["s3:ObjectCreated:*"] and got["Filter"]["Key"]["FilterRules"][0]["Value"] == ".jpg", got
s3.put_object(Bucket="cfg-eu", Key="x", Body=b"1")
assert err_code(s3.delete_bucket, Bucket="cfg-eu") == ("BucketNotEmpty", 409)
s3.put_object_tagging(Bucket="cfg-eu", Key="x", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
assert s3.get_object_tagging(Bucket="cfg-eu", Key="x")["TagSet"] == [{"Key": "a", "Value": "b"}]
assert s3.get_object(Bucket="cfg-eu", Key="x")["TagCount"] == 1
r = s3.delete_objects(Bucket="cfg-eu", Delete={"Objects": [{"Key": "x"}, {"Key": "never-was"}]})
assert sorted(d["Key"] for d in r["Deleted"]) == ["never-was", "x"]
s3.delete_bucket(Bucket="cfg-eu")
s3.delete_bucket(Bucket="cfg-us")
assert err_code(s3.get_bucket_location, Bucket="cfg-eu") == ("NoSuchBucket", 404)
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn concurrent_writers_share_commits_without_losing_or_doubling_writes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
from concurrent.futures import ThreadPoolExecutor
s3.create_bucket(Bucket="busy")
def create_once(i):
    try:
        s3.put_object(Bucket="busy", Key="once", Body=str(i).encode(), IfNoneMatch="*")
        return "won"
    except ClientError as e:
        return e.response["Error"]["Code"]
def put_many(i):
    for j in range(20):
        s3.put_object(Bucket="busy", Key=f"k/{i}/{j}", Body=(f"{i}-{j}-" * 100).encode())
    return i
with ThreadPoolExecutor(16) as pool:
    results = list(pool.map(create_once, range(16)))
    list(pool.map(put_many, range(16)))
    # 16 writers racing on one key: every answer is a success, and the key ends as one of them.
    list(pool.map(lambda i: s3.put_object(Bucket="busy", Key="race", Body=str(i).encode() * 5000), range(16)))
assert results.count("won") == 1 and results.count("PreconditionFailed") == 15, results
keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="busy", Prefix="k/") for o in p.get("Contents", [])]
assert len(keys) == 320, len(keys)
for i in (0, 7, 15):
    assert s3.get_object(Bucket="busy", Key=f"k/{i}/19")["Body"].read() == (f"{i}-19-" * 100).encode()
body = s3.get_object(Bucket="busy", Key="race")["Body"].read()
assert len(set(body.split(b"0")) ) >= 1 and len(body) in (5000 * len(str(i)) for i in range(16)), len(body)
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn aws_chunked_uploads_from_any_access_key_in_the_default_mode() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
import http.client, urllib.parse
s3.create_bucket(Bucket="chunky")
u = urllib.parse.urlparse(os.environ["ENDPOINT"])
sig = "0" * 64
def put(key, payload, mode, chunk=7):
    parts = [payload[i:i + chunk] for i in range(0, len(payload), chunk)] + [b""]
    body = b""
    for p in parts:
        ext = f";chunk-signature={sig}" if mode.startswith("STREAMING-AWS4") else ""
        body += f"{len(p):x}{ext}\r\n".encode() + p + (b"\r\n" if p else b"")
    if mode.endswith("TRAILER"):
        body += b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    else:
        body += b"\r\n"
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=NOBODYKNOWS/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={sig}",
        "x-amz-content-sha256": mode,
        "x-amz-date": "20260101T000000Z",
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(payload)),
        "Content-Length": str(len(body)),
    }
    if mode.endswith("TRAILER"):
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("PUT", f"/chunky/{key}", body=body, headers=headers)
    r = c.getresponse()
    assert r.status == 200, (mode, r.status, r.read())
for i, mode in enumerate(["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"]):
    payload = os.urandom(100 + i * 50000)
    put(f"k{i}", payload, mode, chunk=8192)
    got = s3.get_object(Bucket="chunky", Key=f"k{i}")
    assert got["Body"].read() == payload and got.get("ContentEncoding") in (None, ""), mode
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
}

/// LocalStack deadlocks when a key is read while a PUT to it is still streaming; here the
/// reader gets the previous version at once and the new one only once acknowledged.
#[test]
fn reading_a_key_while_its_put_is_still_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::in_dir(dir.path());
    let out = s.python(
        r#"
import http.client, urllib.parse, threading
s3.create_bucket(Bucket="stream")
s3.put_object(Bucket="stream", Key="k", Body=b"old")
u = urllib.parse.urlparse(os.environ["ENDPOINT"])
size = 4 * 1024 * 1024
c = http.client.HTTPConnection(u.hostname, u.port)
c.putrequest("PUT", "/stream/k")
c.putheader("Content-Length", str(size))
c.endheaders()
c.send(b"n" * (size // 2))
time.sleep(0.2)
t0 = time.time()
assert s3.get_object(Bucket="stream", Key="k")["Body"].read() == b"old"
assert time.time() - t0 < 2, "the read waited for the streaming write"
c.send(b"n" * (size // 2))
r = c.getresponse()
assert r.status == 200, r.status
assert s3.get_object(Bucket="stream", Key="k")["Body"].read() == b"n" * size
print("ok")
"#,
    );
    assert!(out.contains("ok"), "{out}");
}
