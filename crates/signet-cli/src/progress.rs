//! Progress of a batch (`sign`/`verify` of several images) on standard
//! error: how many images are done and how many failed. Drawn only when
//! standard error is a terminal, so logs and pipes see nothing of it.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    failed: AtomicUsize,
}

impl Progress {
    /// A bar for `total` images, `verb` as in "3/10 images verified"; none
    /// for a single image or when standard error is not a terminal.
    pub fn new(total: usize, verb: &str) -> Self {
        let bar = (total > 1 && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total as u64),
                ProgressDrawTarget::stderr_with_hz(10),
            );
            let template = format!("{{bar:30}} {{pos}}/{{len}} images {verb}{{msg}} [{{elapsed}}]");
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar.tick();
            bar
        });
        Self {
            bar,
            failed: AtomicUsize::new(0),
        }
    }

    /// One more image done.
    pub fn done(&self, ok: bool) {
        let Some(bar) = &self.bar else { return };
        bar.inc(1);
        if !ok {
            let failed = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
            bar.set_message(format!(", {failed} failed"));
        }
    }

    /// Removes the bar before the results are printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
