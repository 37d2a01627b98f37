//! Live collectors: read a cloud through its SDK into the inventory. File imports live in
//! [`crate::import`]; both produce the same [`crate::inventory::Inventory`].

pub mod aws;

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress on a terminal; silent when stderr is not a TTY or with `--quiet`.
#[derive(Clone, Default)]
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar on stderr if it is a terminal and `quiet` is off; otherwise nothing.
    pub fn stderr(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(bar))
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

    pub fn inc(&self, done: &str) {
        if let Some(b) = &self.0 {
            b.set_message(crate::report::table::sanitize(done));
            b.inc(1);
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
