//! Progress of the solver-driven bounds passes: one bar per layer on stderr, drawn only when
//! stderr is a terminal (pipelines and CI logs stay quiet).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar counting the units of one layer (hidden when progress is off or stderr is no terminal).
pub(super) fn layer_bar(enabled: bool, method: &str, layer: &str, units: usize) -> ProgressBar {
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(units as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{elapsed_precise}] {bar:40} {pos}/{len} units ({eta} left)")
            .expect("progress template is valid"),
    );
    bar.set_prefix(format!("{method} {layer}"));
    bar
}
