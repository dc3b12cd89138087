//! The dashboard's flags (`--dashboard-port`, `--no-dashboard`, `--dashboard-history`),
//! shared by every command that serves something, and starting it beside the other
//! services on the same host.

use std::net::{IpAddr, SocketAddr};

/// The dashboard's port when `--dashboard-port` is not given.
pub const DEFAULT_PORT: u16 = 3002;

/// Flags of every command that serves functions or S3.
#[derive(clap::Args, Clone, Debug)]
pub struct DashboardArgs {
    /// Port of the browser dashboard: invocations live with their events and logs,
    /// functions, routes, S3 objects, the async queue [default: 3002; when 3002 is taken,
    /// ssam runs without the dashboard and says so]
    #[arg(long, value_name = "PORT")]
    pub dashboard_port: Option<u16>,

    /// Do not serve the dashboard.
    #[arg(long)]
    pub no_dashboard: bool,

    /// How many invocations the dashboard keeps, with their events, responses and logs
    /// (also bounded to 128 MB of payloads).
    #[arg(long, default_value_t = ssam_dashboard::DEFAULT_HISTORY, value_name = "N")]
    pub dashboard_history: usize,
}

/// A dashboard bound to its port, not yet serving.
pub struct Bound {
    pub listener: tokio::net::TcpListener,
    pub url: String,
}

impl DashboardArgs {
    /// Binds the dashboard's port on `host` (`None` with `--no-dashboard`). Warns when the
    /// host is reachable from other machines: the dashboard shows every payload.
    pub async fn bind(&self, host: IpAddr) -> anyhow::Result<Option<Bound>> {
        if self.no_dashboard {
            return Ok(None);
        }
        let addr = SocketAddr::new(host, self.dashboard_port.unwrap_or(DEFAULT_PORT));
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            // The default port in use (another ssam): run on without the dashboard.
            Err(e) if self.dashboard_port.is_none() => {
                tracing::warn!(
                    "the dashboard is off: cannot listen on {addr}: {e}\n  hint: pick another \
                     port with --dashboard-port (0 picks a free one)"
                );
                return Ok(None);
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "cannot listen on {addr} for the dashboard\n  hint: pick another port with \
                     --dashboard-port, or switch it off with --no-dashboard"
                )))
            }
        };
        let local = listener.local_addr()?;
        if !ssam_dashboard::is_loopback(&local) {
            tracing::warn!(
                "the dashboard listens on {local}, reachable from other machines, and shows \
                 every event and response\n  hint: use --host 127.0.0.1, or --no-dashboard"
            );
        }
        Ok(Some(Bound {
            listener,
            url: format!("http://{local}"),
        }))
    }
}

/// Where each function of `app` is declared, `file:line:column` by logical id, for the
/// dashboard's functions view.
pub fn template_positions(app: &ssam_template::App) -> std::collections::HashMap<String, String> {
    app.resources
        .iter()
        .filter(|r| {
            matches!(
                r.resource_type.as_str(),
                "AWS::Serverless::Function" | "AWS::Lambda::Function"
            )
        })
        .map(|r| {
            let l = &r.location;
            (
                r.logical_id.clone(),
                format!("{}:{}:{}", l.file.display(), l.line, l.column),
            )
        })
        .collect()
}

/// Serves `dashboard` in the background until `stop` fires.
pub fn serve(
    dashboard: ssam_dashboard::Dashboard,
    bound: Bound,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        if let Err(e) = dashboard
            .serve(bound.listener, async move {
                let _ = rx.await;
            })
            .await
        {
            tracing::warn!("the dashboard stopped: {e}");
        }
    });
    (task, tx)
}
