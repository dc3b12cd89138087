//! Function logs: each sandbox's output (stdout and stderr share one pipe, so lines keep
//! the order they were written in, as in Lambda's one log stream), line by line, with the
//! function's name in front, plus the START / END / REPORT lines Lambda writes, and the tail
//! kept for `X-Amz-Log-Type: Tail`.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::net::unix::pipe;

use crate::limits::LOG_TAIL_MAX;
use crate::telemetry::{Kind, Telemetry};

/// Receives every log line of every function (for `ssam start`'s dashboard, tests, ...).
pub trait LogListener: Send + Sync {
    fn line(&self, function: &str, line: &str);
}

/// Where one instance's log lines go.
pub(crate) struct InstanceLog {
    function: Arc<str>,
    prefix: String,
    print: bool,
    listener: Option<Arc<dyn LogListener>>,
    /// The current invocation's log, trimmed to the last few KB.
    tail: Mutex<Vec<u8>>,
    /// The function's output pipe (one for stdout and stderr), read by a task and drained
    /// before END.
    pipes: Mutex<Vec<Arc<Pipe>>>,
    /// The instance's Telemetry API streams, once it has extensions: each line the function
    /// or an extension writes is also an event.
    telemetry: std::sync::OnceLock<Arc<Telemetry>>,
    /// A container's extension exits, reported in its output (`container.rs`).
    exit_lines: std::sync::OnceLock<ExitLines>,
}

/// Lines starting with `marker` (`MARKER CODE NAME`, written by a container's extension
/// wrapper when an extension exits) go to `report`, not to the log.
struct ExitLines {
    marker: String,
    report: ReportExit,
}

/// Told an extension's name and exit code.
type ReportExit = Box<dyn Fn(&str, i64) + Send + Sync>;

/// One output pipe of a sandbox and its unfinished last line. Whoever reads it (its task, or
/// [`InstanceLog::drain`]) holds `line`'s lock, so lines never interleave.
struct Pipe {
    rx: pipe::Receiver,
    line: Mutex<Vec<u8>>,
    /// Whose output it is: the function's, or an extension's.
    kind: Kind,
}

impl InstanceLog {
    pub(crate) fn new(
        function: &str,
        print: bool,
        with_prefix: bool,
        listener: Option<Arc<dyn LogListener>>,
    ) -> Arc<Self> {
        Arc::new(InstanceLog {
            function: function.into(),
            prefix: if with_prefix {
                colored_prefix(function)
            } else {
                String::new()
            },
            print,
            listener,
            tail: Mutex::new(Vec::new()),
            pipes: Mutex::new(Vec::new()),
            telemetry: std::sync::OnceLock::new(),
            exit_lines: std::sync::OnceLock::new(),
        })
    }

    /// Sends every output line to `telemetry` too (`function` and `extension` events).
    pub(crate) fn tap(&self, telemetry: Arc<Telemetry>) {
        let _ = self.telemetry.set(telemetry);
    }

    /// Takes the lines starting with `marker` out of the output: each says an extension
    /// exited (`MARKER CODE NAME`), which `report` is told.
    pub(crate) fn watch_exit_lines(
        &self,
        marker: String,
        report: impl Fn(&str, i64) + Send + Sync + 'static,
    ) {
        let _ = self.exit_lines.set(ExitLines {
            marker,
            report: Box::new(report),
        });
    }

    /// One line of output (without its newline).
    pub(crate) fn line(&self, line: &str) {
        if self.print {
            // One write per line: stderr is unbuffered, and `writeln!` would issue a write
            // syscall per formatted piece (3 per line, ~10 per invocation).
            let mut buf = String::with_capacity(self.prefix.len() + line.len() + 1);
            buf.push_str(&self.prefix);
            buf.push_str(line);
            buf.push('\n');
            let _ = std::io::stderr().lock().write_all(buf.as_bytes());
        }
        if let Some(l) = &self.listener {
            l.line(&self.function, line);
        }
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        tail.extend_from_slice(line.as_bytes());
        tail.push(b'\n');
        if tail.len() > 2 * LOG_TAIL_MAX {
            let cut = tail.len() - LOG_TAIL_MAX;
            tail.drain(..cut);
        }
    }

    /// Starts a new invocation's log.
    pub(crate) fn start(&self, request_id: &str) {
        self.tail.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.line(&format!("START RequestId: {request_id} Version: $LATEST"));
    }

    pub(crate) fn end(&self, request_id: &str, report: &Report) {
        self.drain();
        self.line(&format!("END RequestId: {request_id}"));
        self.line(&report.line(request_id));
    }

    /// Base64 of the last 4 KB of the current invocation's log.
    pub(crate) fn tail_base64(&self) -> String {
        let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let start = tail.len().saturating_sub(LOG_TAIL_MAX);
        base64::engine::general_purpose::STANDARD.encode(&tail[start..])
    }

    /// The last 4 KB of the current invocation's log, as text (cut at a line start).
    pub(crate) fn tail_text(&self) -> String {
        let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let mut start = tail.len().saturating_sub(LOG_TAIL_MAX);
        if start > 0 {
            if let Some(nl) = tail[start..].iter().position(|b| *b == b'\n') {
                start += nl + 1;
            }
        }
        String::from_utf8_lossy(&tail[start..]).into_owned()
    }

    /// Streams a pipe into the log until it closes. Lines are capped at [`MAX_LINE`] so a
    /// function printing without newlines cannot grow ssam's memory.
    /// `kind` says whose output it is (an extension's lines are `extension` telemetry events).
    pub(crate) fn pump_as(self: &Arc<Self>, rx: pipe::Receiver, kind: Kind) {
        let pipe = Arc::new(Pipe {
            rx,
            line: Mutex::new(Vec::new()),
            kind,
        });
        self.pipes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&pipe));
        let log = Arc::clone(self);
        tokio::spawn(async move {
            while pipe.rx.readable().await.is_ok() {
                if !log.read_available(&pipe) {
                    break;
                }
            }
            let mut line = pipe.line.lock().unwrap_or_else(|p| p.into_inner());
            if !line.is_empty() {
                log.emit_raw(&mut line, pipe.kind);
            }
            drop(line);
            log.pipes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|p| !Arc::ptr_eq(p, &pipe));
        });
    }

    /// Streams a container's output into the log until it ends: the engine sends stdout and
    /// stderr apart, so each keeps its unfinished last line apart.
    pub(crate) fn pump_container(self: &Arc<Self>, mut output: ssam_docker::OutputStream) {
        use futures::StreamExt as _;
        let log = Arc::clone(self);
        tokio::spawn(async move {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            while let Some(chunk) = output.next().await {
                match chunk {
                    ssam_docker::Output::Stdout(b) => log.take_lines(&b, &mut out, Kind::Function),
                    ssam_docker::Output::Stderr(b) => log.take_lines(&b, &mut err, Kind::Function),
                }
            }
            for mut rest in [out, err] {
                if !rest.is_empty() {
                    log.emit_raw(&mut rest, Kind::Function);
                }
            }
        });
    }

    /// Takes in what `pipe` holds without waiting; false once it is closed.
    fn read_available(&self, pipe: &Pipe) -> bool {
        let mut line = pipe.line.lock().unwrap_or_else(|p| p.into_inner());
        let mut buf = [0u8; 16 * 1024];
        loop {
            match pipe.rx.try_read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => self.take_lines(&buf[..n], &mut line, pipe.kind),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    fn take_lines(&self, mut bytes: &[u8], line: &mut Vec<u8>, kind: Kind) {
        while !bytes.is_empty() {
            match bytes.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    line.extend_from_slice(&bytes[..i]);
                    bytes = &bytes[i + 1..];
                    self.emit_raw(line, kind);
                }
                None => {
                    line.extend_from_slice(bytes);
                    bytes = &[];
                    if line.len() >= MAX_LINE {
                        self.emit_raw(line, kind);
                    }
                }
            }
        }
    }

    /// Takes in every line the function wrote before now. Output written before the runtime
    /// posted its answer is already in the pipes, so after this END and REPORT never come
    /// before it and the tail holds it, as on Lambda. One non-blocking read per pipe when
    /// there is nothing left.
    pub(crate) fn drain(&self) {
        let pipes: Vec<_> = self.pipes.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for pipe in pipes {
            self.read_available(&pipe);
        }
    }

    fn emit_raw(&self, line: &mut Vec<u8>, mut kind: Kind) {
        while line.last().is_some_and(|b| *b == b'\r') {
            line.pop();
        }
        // A container's extension wrapper marks its extensions' lines (`MARKER+ LINE`) and
        // their exits (`MARKER CODE NAME`).
        let mut start = 0;
        if let Some(exits) = self.exit_lines.get() {
            if let Some(rest) = line.strip_prefix(exits.marker.as_bytes()) {
                if rest.starts_with(b"+ ") {
                    kind = Kind::Extension;
                    start = exits.marker.len() + 2;
                } else {
                    let rest = String::from_utf8_lossy(rest);
                    if let Some((code, name)) = rest.trim_start().split_once(' ') {
                        if let Ok(code) = code.parse::<i64>() {
                            (exits.report)(name, code);
                            line.clear();
                            return;
                        }
                    }
                }
            }
        }
        let text = String::from_utf8_lossy(&line[start..]);
        self.line(&text);
        if let Some(t) = self.telemetry.get() {
            t.log_line(kind, &text);
        }
        line.clear();
    }
}

/// Longest log line kept whole; longer output is split.
const MAX_LINE: usize = 256 * 1024;

/// The numbers of a REPORT line.
#[derive(Clone, Debug)]
pub struct Report {
    pub duration: Duration,
    pub memory_mb: u32,
    pub max_memory_used_mb: u64,
    pub init_duration: Option<Duration>,
}

impl Report {
    /// `REPORT RequestId: ... Duration: 1.23 ms Billed Duration: 2 ms Memory Size: 128 MB
    /// Max Memory Used: 30 MB [Init Duration: 45.67 ms]`, tab-separated as CloudWatch shows it.
    pub fn line(&self, request_id: &str) -> String {
        let ms = self.duration.as_secs_f64() * 1000.0;
        let billed = (ms.ceil() as u64).max(1);
        let mut s = format!(
            "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {billed} ms\t\
             Memory Size: {} MB\tMax Memory Used: {} MB",
            self.memory_mb, self.max_memory_used_mb
        );
        if let Some(init) = self.init_duration {
            s.push_str(&format!(
                "\tInit Duration: {:.2} ms",
                init.as_secs_f64() * 1000.0
            ));
        }
        s
    }
}

/// Peak resident memory of a sandbox in MB, as Lambda's Max Memory Used: the `VmHWM` of the
/// runtime process and of every process below it (a `bootstrap` script that starts its
/// binary without `exec`, workers). Lambda measures the sandbox as a whole; the sum of the
/// peaks is the closest per-process figure.
pub(crate) fn peak_rss_mb(pid: u32) -> u64 {
    tree_status_kb(pid, "VmHWM:").div_ceil(1024)
}

/// Resident memory of a sandbox now, in MB (`VmRSS` of its process tree): what Lambda holds
/// against the function's MemorySize.
pub(crate) fn rss_mb(pid: u32) -> u64 {
    tree_status_kb(pid, "VmRSS:").div_ceil(1024)
}

/// The sum of one `/proc/<pid>/status` field (in kB) over `pid` and its descendants.
fn tree_status_kb(pid: u32, field: &str) -> u64 {
    let mut total_kb = 0u64;
    let mut stack = vec![pid];
    let mut seen = 0usize;
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > 256 {
            break;
        }
        total_kb += status_kb(p, field);
        // Needs CONFIG_PROC_CHILDREN (set on common kernels); without it, only `pid` counts.
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            stack.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    total_kb
}

fn status_kb(pid: u32, field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// `[Function] `, in a color of its own when stderr is a terminal (and `NO_COLOR` is unset),
/// so interleaved logs of several functions stay readable.
fn colored_prefix(function: &str) -> String {
    use std::io::IsTerminal as _;
    let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
    if !color {
        return format!("[{function}] ");
    }
    // Bright, readable on dark and light backgrounds: cyan, magenta, yellow, green, blue, red.
    const PALETTE: [u8; 6] = [36, 35, 33, 32, 34, 31];
    let hash = function
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let code = PALETTE[hash as usize % PALETTE.len()];
    format!("\x1b[{code}m[{function}]\x1b[0m ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_shape() {
        let r = Report {
            duration: Duration::from_micros(1234),
            memory_mb: 128,
            max_memory_used_mb: 30,
            init_duration: Some(Duration::from_millis(45)),
        };
        assert_eq!(
            r.line("abc"),
            "REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\tInit Duration: 45.00 ms"
        );
    }

    #[test]
    fn own_peak_rss_is_known() {
        assert!(peak_rss_mb(std::process::id()) > 0);
    }

    #[test]
    fn tail_keeps_last_4k() {
        let log = InstanceLog::new("f", false, true, None);
        log.start("id");
        for i in 0..1000 {
            log.line(&format!("line {i}"));
        }
        let tail = base64::engine::general_purpose::STANDARD
            .decode(log.tail_base64())
            .expect("base64");
        assert!(tail.len() <= LOG_TAIL_MAX);
        assert!(String::from_utf8_lossy(&tail).ends_with("line 999\n"));
    }
}
