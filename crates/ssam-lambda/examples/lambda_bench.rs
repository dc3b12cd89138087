//! Benchmark driver for docs/benchmarks.md (`## Lambda`). Not a test.
//!
//! `lambda_bench load URL [--connections N] [--seconds S] [--payload JSON]`: keeps N
//! kept-alive connections busy POSTing to an Invoke URL (ssam's or RIE's) and prints
//! requests/s, p50/p99 latency and errors. The client runs on one thread so it takes at most
//! one core of the machine it shares with the server.
//!
//! `lambda_bench cold [--runs N] [--cwd DIR] -- CMD ARGS...`: runs a command N times in a row
//! and prints the mean, median and minimum wall time (cold `ssam local invoke` vs plain python).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};

fn arg_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)] as f64 / 1000.0
}

struct Outcome {
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

async fn connection(
    url: http::Uri,
    payload: Bytes,
    until: Instant,
    warmup_until: Instant,
) -> Outcome {
    let mut out = Outcome {
        latencies_us: Vec::new(),
        errors: 0,
        first_error: None,
    };
    let authority = url.authority().map(|a| a.to_string()).unwrap_or_default();
    let stream = match tokio::net::TcpStream::connect(&authority).await {
        Ok(s) => s,
        Err(e) => {
            out.errors += 1;
            out.first_error = Some(format!("connect: {e}"));
            return out;
        }
    };
    let _ = stream.set_nodelay(true);
    let io = hyper_util::rt::TokioIo::new(stream);
    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(io).await else {
        out.errors += 1;
        return out;
    };
    tokio::spawn(conn);
    while Instant::now() < until {
        let req = http::Request::post(url.clone())
            .header("host", authority.as_str())
            .header("content-type", "application/json")
            .body(Full::new(payload.clone()));
        let Ok(req) = req else { break };
        let t = Instant::now();
        let res = sender.send_request(req).await;
        let ok = match res {
            Ok(resp) => {
                let status = resp.status();
                let body = resp.into_body().collect().await.map(|b| b.to_bytes());
                match body {
                    Ok(b) if status == 200 => Ok(b),
                    Ok(b) => Err(format!("{status}: {}", String::from_utf8_lossy(&b))),
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        let elapsed = t.elapsed();
        if t < warmup_until {
            continue;
        }
        match ok {
            Ok(_) => out.latencies_us.push(elapsed.as_micros() as u64),
            Err(e) => {
                out.errors += 1;
                if out.first_error.is_none() {
                    out.first_error = Some(e);
                }
                // A connection the server dropped cannot be reused.
                if sender.ready().await.is_err() {
                    break;
                }
            }
        }
    }
    out
}

fn load(args: &[String]) {
    let Some(url) = args.get(2).and_then(|u| u.parse::<http::Uri>().ok()) else {
        eprintln!("usage: lambda_bench load URL [--connections N] [--seconds S] [--payload JSON]");
        std::process::exit(2);
    };
    let connections: usize = arg_value(args, "--connections")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let seconds: f64 = arg_value(args, "--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let warmup: f64 = arg_value(args, "--warmup")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let payload = Bytes::from(arg_value(args, "--payload").unwrap_or_else(|| "{}".into()));
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        std::process::exit(1);
    };
    let start = Instant::now();
    let warmup_until = start + Duration::from_secs_f64(warmup);
    let until = warmup_until + Duration::from_secs_f64(seconds);
    let outcomes = rt.block_on(async {
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(connection(
                    url.clone(),
                    payload.clone(),
                    until,
                    warmup_until,
                ))
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            if let Ok(o) = t.await {
                all.push(o);
            }
        }
        all
    });
    let measured = Instant::now()
        .saturating_duration_since(warmup_until)
        .as_secs_f64();
    let mut lat: Vec<u64> = outcomes
        .iter()
        .flat_map(|o| o.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let errors: u64 = outcomes.iter().map(|o| o.errors).sum();
    let first_error = outcomes.iter().find_map(|o| o.first_error.clone());
    println!(
        "connections={connections} requests={} errors={errors} rps={:.0} p50_ms={:.3} p99_ms={:.3}{}",
        lat.len(),
        lat.len() as f64 / measured,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        first_error
            .map(|e| format!(" first_error={e:?}"))
            .unwrap_or_default()
    );
}

fn cold(args: &[String]) {
    let runs: usize = arg_value(args, "--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let cwd = arg_value(args, "--cwd");
    let Some(sep) = args.iter().position(|a| a == "--") else {
        eprintln!(
            "usage: lambda_bench cold [--runs N] [--cwd DIR] -- CMD ARGS... [-- CMD2 ARGS...]"
        );
        std::process::exit(2);
    };
    // Several commands run interleaved, so background load hits each alike.
    let commands: Vec<&[String]> = args[sep + 1..]
        .split(|a| a == "--")
        .filter(|c| !c.is_empty())
        .collect();
    let mut times: Vec<Vec<u64>> = vec![Vec::new(); commands.len()];
    for i in 0..=runs {
        for (k, cmd) in commands.iter().enumerate() {
            let Some((program, rest)) = cmd.split_first() else {
                continue;
            };
            let mut c = std::process::Command::new(program);
            c.args(rest)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            if let Some(d) = &cwd {
                c.current_dir(d);
            }
            let t = Instant::now();
            let status = c.status();
            let elapsed = t.elapsed();
            if !status.map(|s| s.success()).unwrap_or(false) {
                eprintln!("run {i} of {program} failed");
                std::process::exit(1);
            }
            // The first run warms the page cache (and writes .pyc files); it is not counted.
            if i > 0 {
                times[k].push(elapsed.as_micros() as u64);
            }
        }
    }
    for (cmd, mut t) in commands.iter().zip(times) {
        t.sort_unstable();
        let mean = t.iter().sum::<u64>() as f64 / t.len().max(1) as f64 / 1000.0;
        println!(
            "{}: runs={runs} mean_ms={mean:.1} median_ms={:.1} min_ms={:.1}",
            cmd.join(" "),
            percentile(&t, 0.5),
            percentile(&t, 0.0)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("load") => load(&args),
        Some("cold") => cold(&args),
        _ => {
            eprintln!("usage: lambda_bench load URL ... | lambda_bench cold ... -- CMD");
            std::process::exit(2);
        }
    }
}
