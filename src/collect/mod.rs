//! Live collectors: read a cloud through its SDK into the inventory. File imports live in
//! [`crate::import`]; both produce the same [`crate::inventory::Inventory`].

pub mod aws;
pub mod azure;
pub mod gcp;

/// What a dataset that the `--timeout` deadline cut off records.
pub(crate) const DEADLINE_PASSED: &str = "the collection deadline (--timeout) passed before this was read";

/// `text`, followed by each cause in the error's source chain that it does not already say.
pub(crate) fn with_sources(mut text: String, e: &(dyn std::error::Error + 'static)) -> String {
    let mut src = e.source();
    let mut depth = 0;
    while let Some(s) = src {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        depth += 1;
        src = if depth < 32 { s.source() } else { None };
    }
    text
}

/// A message for coverage and findings: whitespace collapsed, at most 600 characters.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(600).collect()
}

/// The runtime a live collection runs on: a few workers (the work waits on the network).
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8))
        .enable_all()
        .build()
}

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress on a terminal; silent when stderr is not a TTY or with `--quiet`.
#[derive(Clone, Default)]
pub struct Progress(Option<ProgressBar>, std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>);

impl Progress {
    /// A bar on stderr if it is a terminal and `quiet` is off; otherwise nothing.
    pub fn stderr(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(None, Default::default());
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(bar), Default::default())
    }

    /// A scope (an account) is being read: the message names what the bar waits on.
    pub fn begin(&self, scope: &str) {
        self.waiting(|set| {
            set.insert(scope.to_string());
        });
    }

    /// The scope is read: count it.
    pub fn end(&self, scope: &str) {
        self.waiting(|set| {
            set.remove(scope);
        });
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    fn waiting(&self, change: impl FnOnce(&mut std::collections::BTreeSet<String>)) {
        let Some(b) = &self.0 else { return };
        let Ok(mut set) = self.1.lock() else { return };
        change(&mut set);
        let names: Vec<String> = set.iter().take(4).map(|s| crate::report::table::sanitize(s)).collect();
        let more = if set.len() > 4 { format!(" and {} more", set.len() - 4) } else { String::new() };
        b.set_message(if names.is_empty() { String::new() } else { format!("waiting on {}{more}", names.join(", ")) });
    }

    pub fn set_message(&self, m: &str) {
        if let Some(b) = &self.0 {
            b.set_message(m.to_string());
        }
    }

    pub fn start(&self, total: u64, what: &str) {
        if let Some(b) = &self.0 {
            b.set_length(total);
            b.set_position(0);
            b.set_message("");
            let t = format!("{{spinner}} {what} {{pos}}/{{len}} {{wide_bar}} {{msg}} [{{elapsed}}]");
            if let Ok(s) = ProgressStyle::with_template(&t) {
                b.set_style(s);
            }
        }
    }

    /// A line that must be seen, above the bar (or plainly on stderr without one).
    pub fn println(&self, line: String) {
        let line = crate::report::table::sanitize_lines(&line);
        match &self.0 {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
