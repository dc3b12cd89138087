//! The API Gateway benchmark: requests/s and latency percentiles of `start-api` in front of a
//! trivial Python function, at several connection counts, and ssam's own overhead per
//! request (the gateway's latency minus a direct Lambda-service invocation of the same
//! event). The load generator is built in (plain HTTP/1.1 keep-alive over TCP), so it needs
//! neither wrk nor a network.
//!
//! Usage: `cargo bench -p ssam-apigw --bench gateway -- [--seconds 10] [--connections 1,16]
//! [--quiet]` (python3.11 on PATH). By default the gateway and the function print their log lines as `start-api`
//! does (send stderr to /dev/null); `--quiet` turns them off.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ssam_apigw::{Gateway, GatewayOptions};
use ssam_lambda::ServiceOptions;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const TEMPLATE: &str = "Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      CodeUri: src
      Handler: app.handler
      ReservedConcurrentExecutions: 16
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: GET
";

const HANDLER: &str =
    "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n";

struct Args {
    seconds: u64,
    connections: Vec<usize>,
    /// Print access-log and function log lines as `start-api` does (to stderr).
    logs: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 10,
        connections: vec![1, 16],
        logs: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                args.seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seconds takes a number")?;
            }
            "--connections" => {
                args.connections = it
                    .next()
                    .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
                    .filter(|v: &Vec<usize>| !v.is_empty())
                    .ok_or("--connections takes a list like 1,16")?;
            }
            "--quiet" => args.logs = false,
            // `cargo bench` passes it to every bench target.
            "--bench" => {}
            "-h" | "--help" => {
                println!("cargo bench -p ssam-apigw --bench gateway -- [--seconds 10] [--connections 1,16] [--quiet]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Latencies of one run, and how long it took.
struct Sample {
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: usize,
}

impl Sample {
    fn pct(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let idx = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[idx.min(self.latencies.len() - 1)].as_secs_f64() * 1000.0
    }

    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

async fn run(args: Args) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("ssam-apigw-bench-{}", std::process::id()));
    let gw = gateway(&dir, args.logs)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(ssam_apigw::serve(
        Arc::clone(&gw),
        listener,
        std::future::pending(),
    ));
    let duration = Duration::from_secs(args.seconds);
    let max_c = args.connections.iter().copied().max().unwrap_or(1);
    // Start as many instances as the widest run uses, so no run measures cold starts.
    let warm: Vec<_> = (0..max_c).map(|_| http_once(addr)).collect();
    for r in futures::future::join_all(warm).await {
        r?;
    }
    let direct = direct_invoke(&gw, addr, duration).await?;
    let mut rows = Vec::new();
    for &c in &args.connections {
        gw.take_overhead();
        let s = load(addr, c, duration).await?;
        let mut own = gw.take_overhead();
        own.sort();
        rows.push((c, s, own));
    }
    print_table(&direct, &rows);
    gw.functions.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The one-route app written to `dir`, served by a gateway with its own Lambda service.
fn gateway(dir: &std::path::Path, logs: bool) -> Result<Arc<Gateway>, String> {
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("template.yaml"), TEMPLATE).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/app.py"), HANDLER).map_err(|e| e.to_string())?;
    let loaded = ssam_template::load(&ssam_template::LoadOptions {
        template: dir.join("template.yaml"),
        parameter_overrides: Default::default(),
        region: None,
        stack_name: None,
    })
    .map_err(|d| format!("{d:?}"))?;
    let app = loaded.app;
    let mapped = ssam_lambda::from_template::specs_from_app(&app, None, &dir.join("cache"));
    let service_options = ServiceOptions {
        print_logs: logs,
        cache_dir: Some(dir.join("cache")),
        ..ServiceOptions::default()
    };
    let mut warnings = Vec::new();
    Ok(Gateway::new(
        &app,
        mapped.specs,
        mapped.skipped,
        service_options,
        GatewayOptions {
            record_overhead: true,
            log_requests: logs,
            ..GatewayOptions::default()
        },
        &mut warnings,
    ))
}

/// The same event the gateway sends, invoked directly for `duration`: the function's own
/// cost.
async fn direct_invoke(
    gw: &Gateway,
    addr: std::net::SocketAddr,
    duration: Duration,
) -> Result<Sample, String> {
    let event = {
        let mut req = ssam_events::apigw::Request::new("GET", "/hello");
        req.route = "GET /hello".into();
        req.headers = vec![
            ("host".into(), addr.to_string()),
            ("user-agent".into(), "bench".into()),
        ];
        serde_json::to_vec(&ssam_events::apigw::HttpApiRequest::from_request(&req))
            .map_err(|e| e.to_string())?
    };
    let mut latencies = Vec::new();
    let start = Instant::now();
    let mut errors = 0;
    while start.elapsed() < duration {
        let t = Instant::now();
        match gw
            .functions
            .invoke(
                "Hello",
                Bytes::from(event.clone()),
                Duration::from_secs(30),
                None,
                None,
            )
            .await
        {
            Ok(r) if r.function_error().is_none() => latencies.push(t.elapsed()),
            _ => errors += 1,
        }
    }
    latencies.sort();
    Ok(Sample {
        latencies,
        elapsed: start.elapsed(),
        errors,
    })
}

/// The table `docs/benchmarks.md` shows.
fn print_table(direct: &Sample, rows: &[(usize, Sample, Vec<Duration>)]) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "| path | connections | requests/s | p50 ms | p99 ms | errors | gateway's own time p50 / p99 ms |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| Lambda service, direct invoke | 1 | {:.0} | {:.3} | {:.3} | {} | - |",
        direct.rps(),
        direct.pct(0.5),
        direct.pct(0.99),
        direct.errors
    );
    for (c, s, own) in rows {
        let own = Sample {
            latencies: own.clone(),
            elapsed: s.elapsed,
            errors: 0,
        };
        let _ = writeln!(
            out,
            "| HTTP through start-api | {c} | {:.0} | {:.3} | {:.3} | {} | {:.3} / {:.3} |",
            s.rps(),
            s.pct(0.5),
            s.pct(0.99),
            s.errors,
            own.pct(0.5),
            own.pct(0.99)
        );
    }
    if let Some((_, one, _)) = rows.iter().find(|(c, ..)| *c == 1) {
        let _ = writeln!(
            out,
            "\nclient-side difference at 1 connection (p50 through HTTP - p50 direct): {:.3} ms",
            one.pct(0.5) - direct.pct(0.5)
        );
    }
}

/// One request on a fresh connection.
async fn http_once(addr: std::net::SocketAddr) -> Result<(), String> {
    let mut conn = Conn::open(addr).await?;
    conn.get().await
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: std::net::SocketAddr) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(4096),
        })
    }

    /// `GET /hello` and read the whole response; Err unless it is a 200.
    async fn get(&mut self) -> Result<(), String> {
        self.stream
            .write_all(b"GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n")
            .await
            .map_err(|e| e.to_string())?;
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            let n = self
                .stream
                .read(&mut chunk)
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
            let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if self.buf.len() >= end + 4 + len {
                return if head.starts_with("http/1.1 200") {
                    Ok(())
                } else {
                    Err(head.lines().next().unwrap_or_default().to_string())
                };
            }
        }
    }
}

async fn load(
    addr: std::net::SocketAddr,
    connections: usize,
    duration: Duration,
) -> Result<Sample, String> {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut conn = match Conn::open(addr).await {
                Ok(c) => c,
                Err(_) => return (lat, 1),
            };
            while Instant::now() < deadline {
                let t = Instant::now();
                match conn.get().await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(_) => {
                        errors += 1;
                        match Conn::open(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(Sample {
        latencies,
        elapsed,
        errors,
    })
}
