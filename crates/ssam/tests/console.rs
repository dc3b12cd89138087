//! The one console: notices from the library crates reach the user through the binary's
//! subscriber. Before it existed, ssam-s3's journal warnings went nowhere (no subscriber
//! was installed); here a torn journal is reported on the next start, as text and as JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: console-logs
"#;

fn start(dir: &Path, extra: &[&str]) -> ssam_testkit::Server {
    let data = dir.join("data");
    let mut flags = vec!["--data-dir", data.to_str().expect("a UTF-8 temporary path")];
    flags.extend(extra);
    ssam_testkit::Server::local_start(&dir.join("template.yaml"), &flags)
}

/// Appends a line that is not a journal record, as a crash in the middle of a write leaves.
fn tear_journal(dir: &Path) {
    use std::io::Write as _;
    let journal = dir.join("data/buckets/console-logs/journal");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap_or_else(|e| panic!("{}: {e}", journal.display()));
    f.write_all(b"this is not a journal record\n").unwrap();
}

#[test]
fn storage_warnings_from_ssam_s3_reach_the_console_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("template.yaml"), TEMPLATE).unwrap();

    let first = start(dir.path(), &[]);
    let s3 = first.word_after("S3 ").expect("the S3 line");
    let out = ssam_testkit::run_python(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.put_object(Bucket="console-logs", Key="kept.txt", Body=b"still here")
print("ok")
"#,
        &[("S3_URL", &s3)],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{out:?}");
    first.stop();

    tear_journal(dir.path());
    let text = start(dir.path(), &[]).stop();
    assert!(
        text.iter().any(
            |l| l.starts_with("warning: journal: dropping an unreadable record")
                && l.contains("bucket=console-logs")
        ),
        "{}",
        text.join("\n")
    );

    tear_journal(dir.path());
    let json = start(dir.path(), &["--log-format", "json"]);
    let s3 = json.word_after("S3 ").expect("the S3 line");
    // What the journal acknowledged before the torn write is still there.
    let out = ssam_testkit::run_python(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
print(s3.get_object(Bucket="console-logs", Key="kept.txt")["Body"].read().decode())
"#,
        &[("S3_URL", &s3)],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "still here",
        "{out:?}"
    );
    let lines = json.stop();
    let warning = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["level"] == "WARN")
        .unwrap_or_else(|| panic!("no JSON warning:\n{}", lines.join("\n")));
    assert_eq!(
        warning["fields"]["message"],
        "journal: dropping an unreadable record and what follows"
    );
    assert_eq!(warning["fields"]["bucket"], "console-logs");
    assert_eq!(warning["target"], "ssam_s3::store::journal");
}
