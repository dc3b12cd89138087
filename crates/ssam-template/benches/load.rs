//! Benchmark: loading a 5,000-resource template (parse, resolve, SAM semantics, checks).
//!
//! `cargo bench -p ssam-template --bench load`. Prints the median and best of several runs;
//! the figure goes to docs/benchmarks.md. A benchmark, not a timed test: nothing asserts.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// A template with `n` resources: a third functions with API and S3 events, buckets, queues.
fn big_template(n: usize) -> String {
    let mut t = String::from(
        "AWSTemplateFormatVersion: 2010-09-09\nTransform: AWS::Serverless-2016-10-31\n\
         Parameters:\n  Stage: {Type: String, Default: dev}\n\
         Globals:\n  Function:\n    Runtime: python3.12\n    Handler: app.handler\n    Timeout: 10\n\
         Resources:\n",
    );
    let groups = n / 3;
    for i in 0..groups {
        let _ = write!(
            t,
            "  Bucket{i}:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub 'bucket-{i}-${{Stage}}'\n\
             \x20 Queue{i}:\n    Type: AWS::SQS::Queue\n\
             \x20 Fn{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n\
             \x20     Environment:\n        Variables:\n          BUCKET: !Ref Bucket{i}\n          QUEUE: !GetAtt Queue{i}.Arn\n\
             \x20     Events:\n        Get:\n          Type: Api\n          Properties:\n            Path: /items/{i}/{{id}}\n            Method: get\n\
             \x20       Up:\n          Type: S3\n          Properties:\n            Bucket: !Ref Bucket{i}\n            Events: s3:ObjectCreated:*\n"
        );
    }
    t
}

fn main() {
    let n = 5_000;
    let text = big_template(n);
    let opts = ssam_template::LoadOptions {
        template: std::env::temp_dir().join("ssam-bench-template.yaml"),
        ..Default::default()
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut functions = 0;
    for _ in 0..7 {
        let start = Instant::now();
        let loaded =
            ssam_template::load_from_str(&text, &opts).expect("the generated template loads");
        times.push(start.elapsed());
        functions = loaded.app.functions.len();
        assert!(!loaded.diagnostics.has_errors(), "{}", loaded.diagnostics);
    }
    times.sort();
    println!(
        "load {n}-resource template ({} KB, {functions} functions): median {:.1} ms, best {:.1} ms",
        text.len() / 1024,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
}
