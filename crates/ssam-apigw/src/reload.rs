//! Hot reload: edits under a function's code directory recycle its warm instances, edits to
//! the template, or to a nested stack's child template, reload routes and functions. No
//! rebuild, no restart.
//!
//! Events are debounced (editors write a file in several steps) and filtered: access events,
//! and files the runtimes write themselves (`__pycache__`, `*.pyc`, dot-directories), would
//! otherwise recycle a function every time it starts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use notify::RecursiveMode;
use ssam_lambda::FunctionSpec;
use ssam_template::App;

use crate::gateway::Gateway;

/// What reloading the template yields.
pub struct Reloaded {
    pub app: App,
    pub specs: Vec<FunctionSpec>,
    pub skipped: Vec<ssam_lambda::from_template::Skipped>,
}

/// Reads the template again (the command knows how: overrides, `--env-vars`, ...).
pub type Loader = Arc<dyn Fn() -> Result<Reloaded, String> + Send + Sync>;

type Watcher = ssam_lambda::watch::Watcher;

/// Keeps the watcher alive; dropping it stops watching.
pub struct Reloader {
    _watcher: Arc<Mutex<Watcher>>,
    _task: tokio::task::JoinHandle<()>,
}

/// Whether a changed path is one the runtimes or tools write on their own. Only the part
/// below a watched directory counts (temporary directories are often dot-named).
fn is_noise_under(path: &Path, roots: &BTreeMap<PathBuf, bool>) -> bool {
    let rel = roots
        .keys()
        .filter_map(|r| path.strip_prefix(r).ok())
        .min_by_key(|p| p.components().count())
        .unwrap_or(path);
    ssam_lambda::watch::is_noise(rel)
}

/// The template files an app was read from: the template, then each nested stack's child
/// template (canonical paths, so events compare equal).
pub fn template_files(app: &App) -> Vec<PathBuf> {
    std::iter::once(&app.template_path)
        .chain(app.nested_stacks.iter().map(|n| &n.template_path))
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .collect()
}

/// Directories to watch, and whether recursively: code directories are, the templates'
/// directories only for the templates themselves (they may hold a large `node_modules` or
/// `.git` whose watches would exhaust inotify's limit).
fn watch_dirs(gw: &Gateway, templates: &[PathBuf]) -> BTreeMap<PathBuf, bool> {
    let mut dirs: BTreeMap<PathBuf, bool> = gw
        .functions
        .code_dirs()
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d.is_dir())
        .map(|d| (d.canonicalize().unwrap_or(d), true))
        .collect();
    for t in templates {
        if let Some(parent) = t.parent() {
            dirs.entry(parent.to_path_buf()).or_insert(false);
        }
    }
    dirs
}

/// Starts watching the app's template files ([`template_files`]: the first is the template
/// itself) and the functions' code directories. Must be called inside a Tokio runtime.
pub fn watch(
    gw: Arc<Gateway>,
    templates: Vec<PathBuf>,
    loader: Loader,
) -> Result<Reloader, String> {
    let mut templates = templates;
    let Some(template) = templates.first().cloned() else {
        return Err("no template to watch".into());
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<PathBuf>>();
    let debouncer = ssam_lambda::watch::changed_paths(tx)?;
    let watcher = Arc::new(Mutex::new(debouncer));
    let mut watched: BTreeMap<PathBuf, bool> = BTreeMap::new();
    let rewatch = |watcher: &Arc<Mutex<Watcher>>,
                   watched: &mut BTreeMap<PathBuf, bool>,
                   dirs: BTreeMap<PathBuf, bool>| {
        let mut w = watcher.lock().unwrap_or_else(|p| p.into_inner());
        for (d, recursive) in dirs {
            if watched.get(&d).is_some_and(|r| *r || !recursive) {
                continue;
            }
            let mode = if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            match w.watch(&d, mode) {
                Ok(()) => {
                    watched.insert(d, recursive);
                }
                Err(e) => tracing::warn!(
                    "cannot watch {}: {e}; changes there need a restart",
                    d.display()
                ),
            }
        }
    };
    rewatch(&watcher, &mut watched, watch_dirs(&gw, &templates));
    let task_watcher = Arc::clone(&watcher);
    let task =
        tokio::spawn(async move {
            while let Some(paths) = rx.recv().await {
                let paths: Vec<PathBuf> = paths
                    .into_iter()
                    .filter(|p| !is_noise_under(p, &watched))
                    .collect();
                if paths.is_empty() {
                    continue;
                }
                let changed_template = paths.iter().find_map(|p| {
                    let canonical = p.canonicalize().unwrap_or_else(|_| p.clone());
                    templates
                        .iter()
                        .find(|t| **t == canonical || *t == p)
                        .cloned()
                });
                let template_changed = changed_template.is_some();
                let mut replaced = Vec::new();
                if template_changed {
                    let loader = Arc::clone(&loader);
                    match tokio::task::spawn_blocking(move || loader()).await {
                        Ok(Ok(r)) => {
                            let mut warnings = Vec::new();
                            let changed = gw.reload(&r.app, r.specs, r.skipped, &mut warnings);
                            replaced.clone_from(&changed);
                            for w in warnings {
                                tracing::warn!("{w}");
                            }
                            tracing::info!(
                                "{} changed: routes reloaded{}",
                                changed_template
                                    .as_deref()
                                    .unwrap_or(template.as_path())
                                    .display(),
                                if changed.is_empty() {
                                    String::new()
                                } else {
                                    format!("; restarted {}", changed.join(", "))
                                }
                            );
                            for m in gw.mounts() {
                                tracing::info!(
                                    "Mounting {} at {} [{}]",
                                    m.function,
                                    m.path,
                                    m.methods.join(", ")
                                );
                            }
                            // A child stack added or moved is watched from now on.
                            templates = template_files(&r.app);
                            rewatch(&task_watcher, &mut watched, watch_dirs(&gw, &templates));
                        }
                        Ok(Err(e)) => tracing::error!(
                        "{} changed but cannot be loaded; still serving the previous routes: {e}",
                        changed_template.as_deref().unwrap_or(template.as_path()).display()
                    ),
                        Err(e) => tracing::error!("template reload failed: {e}"),
                    }
                }
                let mut recycled = BTreeSet::new();
                for (id, dir) in gw.functions.code_dirs() {
                    if replaced.contains(&id) {
                        continue;
                    }
                    let dir = dir.canonicalize().unwrap_or(dir);
                    if paths.iter().any(|p| p.starts_with(&dir)) {
                        recycled.insert(id);
                    }
                }
                for id in &recycled {
                    gw.functions.recycle(id);
                }
                if !recycled.is_empty() {
                    let list: Vec<&str> = recycled.iter().map(String::as_str).collect();
                    tracing::info!(
                        "code changed: the next request to {} starts a fresh instance",
                        list.join(", ")
                    );
                }
            }
        });
    Ok(Reloader {
        _watcher: watcher,
        _task: task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssam_lambda::watch::is_noise;

    #[test]
    fn runtime_droppings_are_noise() {
        assert!(is_noise(Path::new(
            "/p/src/__pycache__/app.cpython-311.pyc"
        )));
        assert!(is_noise(Path::new("/p/.git/index")));
        assert!(is_noise(Path::new("/p/src/.app.py.swp")));
        assert!(!is_noise(Path::new("/p/src/app.py")));
        let roots: BTreeMap<PathBuf, bool> = [(PathBuf::from("/tmp/.tmpAbc"), true)].into();
        assert!(!is_noise_under(
            Path::new("/tmp/.tmpAbc/src/app.py"),
            &roots
        ));
        assert!(is_noise_under(
            Path::new("/tmp/.tmpAbc/src/__pycache__/x.pyc"),
            &roots
        ));
    }
}
