//! Hot reload of code: watches every function's code and layer directories and recycles the
//! functions whose files change, so their next invocation cold-starts with the new code. No
//! rebuild when running from the source template. Events are debounced (editors write a file
//! in several steps) and filtered ([`is_noise`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use notify::{EventKind, RecursiveMode};

use crate::LambdaService;

pub type Watcher = notify_debouncer_full::Debouncer<
    notify::RecommendedWatcher,
    notify_debouncer_full::RecommendedCache,
>;

/// Whether a changed path (relative to a watched directory) is one the runtimes or tools
/// write on their own (bytecode, editor swap files, dependency and dot directories): those
/// must not restart a function, or every cold start would trigger another.
pub fn is_noise(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".pyc")
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name == "4913"
        || path.components().any(|c| {
            let s = c.as_os_str().to_str().unwrap_or_default();
            s == "__pycache__"
                || s == "node_modules"
                || (s.starts_with('.') && s.len() > 1 && s != "..")
        })
}

/// A file watcher (nothing watched yet) that sends the paths changed in each 150 ms burst
/// of events, reads left out. Shared by the code watcher here and the API Gateway reloader.
pub fn changed_paths(
    tx: tokio::sync::mpsc::UnboundedSender<Vec<PathBuf>>,
) -> Result<Watcher, String> {
    notify_debouncer_full::new_debouncer(
        std::time::Duration::from_millis(150),
        None,
        move |res: notify_debouncer_full::DebounceEventResult| {
            let Ok(events) = res else { return };
            let paths: Vec<PathBuf> = events
                .into_iter()
                .filter(|e| !matches!(e.kind, EventKind::Access(_)))
                .flat_map(|e| e.event.paths)
                .collect();
            if !paths.is_empty() {
                let _ = tx.send(paths);
            }
        },
    )
    .map_err(|e| format!("cannot watch files: {e}"))
}

/// A container function's image is rebuilt at once after its context changed, not at its
/// next invocation (which then finds it ready).
fn rebuild_now(service: &Arc<LambdaService>, name: &str) {
    let is_container = service
        .function(name)
        .is_some_and(|f| f.sandbox != crate::spec::SandboxKind::Native);
    if is_container {
        let (service, name) = (Arc::clone(service), name.to_string());
        tokio::spawn(async move {
            if let Err(e) = service.prepare(&name).await {
                tracing::warn!("{name}: {e}");
            }
        });
    }
}

/// Watches every function's code and layer directories; a change recycles the functions
/// using that directory, so their next invocation runs the new code.
pub fn watch_code(service: Arc<LambdaService>) -> Result<Watcher, String> {
    let mut dirs: Vec<(PathBuf, String)> = Vec::new();
    for f in service.functions() {
        for d in f.watched_dirs() {
            let d = d.canonicalize().unwrap_or(d);
            dirs.push((d, f.name.clone()));
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<PathBuf>>();
    let mut debouncer = changed_paths(tx)?;
    let mut watched = std::collections::BTreeSet::new();
    for (d, _) in &dirs {
        if watched.insert(d.clone()) {
            if let Err(e) = debouncer.watch(d, RecursiveMode::Recursive) {
                tracing::warn!("cannot watch {}: {e}", d.display());
            }
        }
    }
    tokio::spawn(async move {
        while let Some(paths) = rx.recv().await {
            let mut changed: std::collections::BTreeMap<String, PathBuf> = Default::default();
            for p in paths {
                for (dir, name) in &dirs {
                    if let Ok(rel) = p.strip_prefix(dir) {
                        if !is_noise(rel) {
                            changed
                                .entry(name.clone())
                                .or_insert_with(|| rel.to_path_buf());
                        }
                    }
                }
            }
            for (name, file) in changed {
                if service.recycle(&name).is_ok() {
                    tracing::info!("Reloading {name}: {} changed", file.display());
                    rebuild_now(&service, &name);
                }
            }
        }
    });
    Ok(debouncer)
}
