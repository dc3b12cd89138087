//! How `ssam build` shows its units while they build. On a terminal: one line per unit
//! with a spinner, the step it runs and its tool's last line, then a mark and the time;
//! a failing unit's whole output printed under its name. In a pipe or a log: every line
//! of output prefixed with the unit's first resource (`[FuncA] ...`), as SAM's build log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ssam_build::{Outcome, Progress, UnitReport};

pub enum BuildView {
    Bars {
        multi: MultiProgress,
        units: Mutex<HashMap<String, UnitBar>>,
    },
    Lines,
}

pub struct UnitBar {
    bar: ProgressBar,
    step: String,
    /// The tool output of this unit, printed in full if it fails.
    output: Vec<String>,
}

/// Longest tool line shown beside a unit's step (the rest is in the failure output).
const SHOWN: usize = 60;

impl BuildView {
    /// Bars when stderr is a terminal (and `NO_COLOR`/`CI` do not ask for plain output),
    /// lines otherwise. `units` are the resources of each unit, first one naming it.
    pub fn new(units: &[Vec<String>]) -> BuildView {
        use std::io::IsTerminal as _;
        let plain = std::env::var_os("CI").is_some() || std::env::var_os("NO_COLOR").is_some();
        if plain || !std::io::stderr().is_terminal() {
            for unit in units {
                eprintln!("Building {}", unit.join(", "));
            }
            return BuildView::Lines;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✔");
        let mut bars = HashMap::new();
        for unit in units {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_prefix(unit.join(", "));
            bar.set_message("waiting");
            bar.enable_steady_tick(Duration::from_millis(120));
            let first = unit.first().cloned().unwrap_or_default();
            bars.insert(
                first,
                UnitBar {
                    bar,
                    step: "waiting".into(),
                    output: Vec::new(),
                },
            );
        }
        BuildView::Bars {
            multi,
            units: Mutex::new(bars),
        }
    }

    /// A step began, a tool printed a line, or the unit named by `resource` ended.
    pub fn progress(&self, resource: &str, event: Progress<'_>) {
        if let Progress::Done(report) = event {
            return self.finish(report);
        }
        match self {
            BuildView::Lines => {
                if let Progress::Line(line) = event {
                    eprintln!("[{resource}] {line}");
                }
            }
            BuildView::Bars { units, .. } => {
                let mut units = units.lock().unwrap_or_else(|p| p.into_inner());
                let Some(unit) = units.get_mut(resource) else {
                    return;
                };
                match event {
                    Progress::Step(step) => {
                        unit.step = step.to_string();
                        unit.bar.set_message(step.to_string());
                    }
                    Progress::Line(line) => {
                        unit.output.push(line.to_string());
                        let shown: String = line.trim().chars().take(SHOWN).collect();
                        unit.bar.set_message(format!("{}: {shown}", unit.step));
                    }
                    Progress::Done(_) => {}
                }
            }
        }
    }

    /// A unit ended: its line shows the outcome; a failure prints the tool's output under
    /// the unit's name (in line mode that output was printed as it came).
    fn finish(&self, report: &UnitReport) {
        let names = report.resources.join(", ");
        let ms = report.duration.as_secs_f64() * 1000.0;
        match self {
            BuildView::Lines => match &report.outcome {
                Outcome::Built => eprintln!("Built {names} ({ms:.0} ms)"),
                Outcome::UpToDate => eprintln!("Up to date: {names}"),
                Outcome::Failed(e) => tracing::error!("{names}: {e}"),
            },
            BuildView::Bars { multi, units } => {
                let first = report.resources.first().cloned().unwrap_or_default();
                let mut units = units.lock().unwrap_or_else(|p| p.into_inner());
                let Some(unit) = units.remove(&first) else {
                    return;
                };
                match &report.outcome {
                    Outcome::Built => unit.bar.finish_with_message(format!("built ({ms:.0} ms)")),
                    Outcome::UpToDate => unit.bar.finish_with_message("up to date"),
                    Outcome::Failed(e) => {
                        unit.bar.abandon_with_message(format!("✖ failed: {e}"));
                        let _ = multi.println(format!("── output of {names} ──"));
                        for line in &unit.output {
                            let _ = multi.println(format!("[{first}] {line}"));
                        }
                    }
                }
            }
        }
    }
}
