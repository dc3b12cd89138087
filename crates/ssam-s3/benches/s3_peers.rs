//! Side-by-side S3 benchmark: the same HTTP client against ssam (in-process; a durable
//! store and an ephemeral one) and any peers given on the command line (moto's server,
//! s3s-fs, ...).
//!
//! ```text
//! cargo bench -p ssam-s3 --bench s3_peers -- [--peer NAME=URL]... [--signed-peer NAME=URL]... [--small N] [--conc C] [--large-mib M] [--rounds R] [--list-keys N]
//! ```
//!
//! Requests are unsigned path-style HTTP/1.1 on kept-alive connections with TCP_NODELAY:
//! ssam's default mode, moto and an s3s-fs started without keys all accept them, so the
//! client costs the same for every server. moto refuses anonymous writes, so peers given
//! with `--signed-peer` get a well-formed SigV4 header with a dummy signature (moto does
//! not verify signatures). Small objects: each worker PUTs then GETs its
//! own keys; the figure is requests per second (PUTs and GETs together), best of R rounds. Large object: one
//! PUT and one GET of M MiB, best of R rounds, in MB/s (10^6 bytes), each alone and both
//! together (2 x M MiB over the two best times: the issue's "PUT+GET of one 64 MiB
//! object"). Every round overwrites the same key, so the replaced blob's page cache is
//! reused: on a VM the first touch of never-used guest memory costs more than the copy
//! (a first `dd` of 1 GiB ran at 0.48 GB/s here, the next ones at 6.5 GB/s).
//! With `--list-keys N`, ssam's stores are then loaded with N empty objects over 100
//! prefixes and ListObjectsV2 is timed (median of 21): one prefix, and the root with a
//! delimiter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Opts {
    peers: Vec<(String, String, bool)>,
    small: usize,
    conc: Vec<usize>,
    large_mib: usize,
    rounds: usize,
    list_keys: usize,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        peers: Vec::new(),
        small: 4000,
        conc: vec![1, 8],
        large_mib: 64,
        rounds: 3,
        list_keys: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--peer" | "--signed-peer" => {
                let v = args.next().expect("--peer NAME=URL");
                let (n, u) = v.split_once('=').expect("--peer NAME=URL");
                let url = u.trim_end_matches('/').to_owned();
                o.peers.push((n.to_owned(), url, a == "--signed-peer"));
            }
            "--small" => o.small = args.next().and_then(|v| v.parse().ok()).expect("--small N"),
            "--conc" => {
                o.conc = args
                    .next()
                    .expect("--conc C[,C]")
                    .split(',')
                    .map(|c| c.parse().expect("number"))
                    .collect();
            }
            "--large-mib" => {
                o.large_mib = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--large-mib M")
            }
            "--rounds" => {
                o.rounds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--rounds R")
            }
            "--list-keys" => {
                o.list_keys = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--list-keys N")
            }
            // cargo bench passes --bench; ignore what we do not know.
            _ => {}
        }
    }
    o
}

const DUMMY_AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";

async fn request(
    client: &HttpClient,
    signed: bool,
    method: &str,
    url: &str,
    body: Bytes,
) -> (u16, usize) {
    let mut req = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-length", body.len());
    if signed {
        req = req
            .header("authorization", DUMMY_AUTH)
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    }
    let req = req.body(Full::new(body)).expect("request");
    let resp = client.request(req).await.expect("send");
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut n = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("body").into_data() {
            n += data.len();
        }
    }
    (status, n)
}

async fn small_objects(
    client: &HttpClient,
    signed: bool,
    base: &str,
    total: usize,
    conc: usize,
) -> f64 {
    let payload = Bytes::from(vec![b's'; 4096]);
    let per = total / conc;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conc {
        let (client, base, payload) = (client.clone(), base.to_owned(), payload.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let url = format!("{base}/bench/small-c{conc}-w{w}-{i}");
                let (s, _) = request(&client, signed, "PUT", &url, payload.clone()).await;
                assert_eq!(s, 200, "PUT {url}");
                let (s, n) = request(&client, signed, "GET", &url, Bytes::new()).await;
                assert!(s == 200 && n == 4096, "GET {url}: {s} {n}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    (2 * per * conc) as f64 / start.elapsed().as_secs_f64()
}

async fn large_object(
    client: &HttpClient,
    signed: bool,
    base: &str,
    mib: usize,
    rounds: usize,
) -> (f64, f64, f64) {
    let payload = Bytes::from(vec![b'L'; mib * 1024 * 1024]);
    let (mut best_put, mut best_get) = (Duration::MAX, Duration::MAX);
    let url = format!("{base}/bench/large");
    for _ in 0..rounds {
        let t = Instant::now();
        let (s, _) = request(client, signed, "PUT", &url, payload.clone()).await;
        assert_eq!(s, 200, "PUT large");
        best_put = best_put.min(t.elapsed());
        let t = Instant::now();
        let (s, n) = request(client, signed, "GET", &url, Bytes::new()).await;
        assert!(s == 200 && n == payload.len(), "GET large: {s} {n}");
        best_get = best_get.min(t.elapsed());
    }
    let mb = payload.len() as f64 / 1e6;
    (
        mb / best_put.as_secs_f64(),
        mb / best_get.as_secs_f64(),
        2.0 * mb / (best_put + best_get).as_secs_f64(),
    )
}

/// Listing among `keys` keys spread over 100 prefixes (`dir00/` ... `dir99/`): the median
/// time of a ListObjectsV2 of one prefix (max-keys 1000) and of a delimiter listing at the
/// root (100 common prefixes), in ms, over 21 requests each.
async fn listing(client: &HttpClient, signed: bool, base: &str, keys: usize) -> (f64, f64) {
    let (s, _) = request(client, signed, "PUT", &format!("{base}/list"), Bytes::new()).await;
    assert!(s == 200 || s == 409, "create bucket list: {s}");
    let workers = 16;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, base) = (client.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            for i in (w..keys).step_by(workers) {
                let url = format!("{base}/list/dir{:02}/file{i:07}", i % 100);
                let (s, _) = request(&client, signed, "PUT", &url, Bytes::new()).await;
                assert_eq!(s, 200, "PUT {url}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("loader");
    }
    let median_ms = |url: String| {
        let client = client.clone();
        async move {
            let mut times = Vec::new();
            for _ in 0..21 {
                let t = Instant::now();
                let (s, n) = request(&client, signed, "GET", &url, Bytes::new()).await;
                assert!(s == 200 && n > 0, "GET {url}: {s}");
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        }
    };
    let prefix = median_ms(format!(
        "{base}/list?list-type=2&prefix=dir07%2F&delimiter=%2F&max-keys=1000"
    ))
    .await;
    let root = median_ms(format!("{base}/list?list-type=2&delimiter=%2F")).await;
    (prefix, root)
}

fn main() {
    let opts = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        // Durable: every write fsynced before it is acknowledged (the default data dir).
        // Ephemeral: `--ephemeral`, no fsyncs (the store is deleted at exit anyway).
        let dir = tempfile::tempdir().expect("tempdir");
        let durable = ssam_s3::S3Server::start(ssam_s3::S3Config {
            port: 0,
            data_dir: dir.path().join("data"),
            ..Default::default()
        })
        .await
        .expect("start ssam");
        let ephemeral = ssam_s3::S3Server::start(ssam_s3::S3Config {
            port: 0,
            ephemeral: true,
            ..Default::default()
        })
        .await
        .expect("start ssam");
        let mut targets = vec![
            ("ssam (durable)".to_owned(), durable.endpoint_url(), false),
            (
                "ssam --ephemeral".to_owned(),
                ephemeral.endpoint_url(),
                false,
            ),
        ];
        targets.extend(opts.peers.iter().cloned());
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: HttpClient = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(64)
            .build(connector);
        println!(
            "| server | 4 KiB PUT+GET, req/s ({}) | {m} MiB PUT+GET, MB/s | {m} MiB PUT, MB/s | {m} MiB GET, MB/s |",
            opts.conc
                .iter()
                .map(|c| format!("c={c}"))
                .collect::<Vec<_>>()
                .join(" / "),
            m = opts.large_mib,
        );
        println!("|---|---|---|---|---|");
        for (name, base, signed) in &targets {
            let signed = *signed;
            let (s, _) = request(
                &client,
                signed,
                "PUT",
                &format!("{base}/bench"),
                Bytes::new(),
            )
            .await;
            assert!(s == 200 || s == 409, "create bucket on {name}: {s}");
            let mut small = Vec::new();
            for &c in &opts.conc {
                // The peers (moto, s3s-fs) are slow enough that a tenth of the requests
                // gives a stable figure.
                let n = if !name.starts_with("ssam") {
                    opts.small / 10
                } else {
                    opts.small
                };
                let mut best = 0f64;
                for _ in 0..opts.rounds {
                    best = best.max(small_objects(&client, signed, base, n.max(c), c).await);
                }
                small.push(format!("{best:.0}"));
            }
            let (put, get, both) =
                large_object(&client, signed, base, opts.large_mib, opts.rounds).await;
            println!(
                "| {name} | {} | {both:.0} | {put:.0} | {get:.0} |",
                small.join(" / ")
            );
        }
        if opts.list_keys > 0 {
            println!();
            println!(
                "| server | keys | one prefix, 1,000 keys listed, ms | root with delimiter, 100 prefixes, ms |"
            );
            println!("|---|---|---|---|");
            // The peers would take minutes to load; the figure is about ssam's index.
            for (name, base, signed) in targets.iter().filter(|t| t.0.starts_with("ssam")) {
                let (prefix, root) = listing(&client, *signed, base, opts.list_keys).await;
                println!(
                    "| {name} | {} | {prefix:.2} | {root:.2} |",
                    opts.list_keys
                );
            }
        }
        durable.shutdown().await;
        ephemeral.shutdown().await;
    });
}
