//! A case's result as `dojang-validate` reports it: computed on the GPU, compared with its
//! expected output (the CPU reference, or another framework's golden file), and timed.

use dojang::tolerance::{Comparison, Tolerance};
use dojang::{Launch, Result, Tensor};
use serde::Serialize;

/// The middle of `v` (the upper one of an even count); `v` is not empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What a case's throughput is measured in.
#[derive(Clone, Copy, Debug, Serialize)]
pub enum Work {
    /// Floating-point operations (compute-bound ops).
    Flops(u64),
    /// Bytes moved (memory-bound ops).
    Bytes(u64),
}

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    pub op: String,
    /// Shapes and attributes.
    pub case: String,
    pub max_abs: f32,
    pub max_rel: f32,
    pub passed: bool,
    /// Time of one run on the device (best of a few, after a warm-up), in seconds: GPU
    /// timestamps where the adapter has them, else the wall clock of submit to finish.
    pub seconds: Option<f64>,
    pub work: Option<Work>,
    /// Why the case failed, when it did.
    pub message: Option<String>,
}

impl CaseResult {
    /// A case that could not run at all.
    pub fn broken(op: &str, case: &str, message: String) -> CaseResult {
        CaseResult {
            op: op.into(),
            case: case.into(),
            max_abs: f32::NAN,
            max_rel: f32::NAN,
            passed: false,
            seconds: None,
            work: None,
            message: Some(message),
        }
    }

    pub fn from_comparison(op: &str, case: &str, c: &Comparison, shape: &[usize]) -> CaseResult {
        CaseResult {
            op: op.into(),
            case: case.into(),
            max_abs: c.max_abs,
            max_rel: c.max_rel,
            passed: c.passed(),
            seconds: None,
            work: None,
            message: (!c.passed()).then(|| c.describe(shape)),
        }
    }

    /// "12.3 GFLOP/s" or "4.5 GB/s".
    pub fn throughput(&self) -> String {
        match (self.seconds, self.work) {
            (Some(s), Some(Work::Flops(f))) if s > 0.0 => {
                format!("{:.1} GFLOP/s", f as f64 / s / 1e9)
            }
            (Some(s), Some(Work::Bytes(b))) if s > 0.0 => format!("{:.1} GB/s", b as f64 / s / 1e9),
            _ => String::new(),
        }
    }

    /// The report line: op, case, errors, verdict, time, throughput. An op name wider than
    /// its column (a model's fused layers) gets a line of its own, the columns under it.
    pub fn line(&self) -> String {
        let time = self.seconds.map(|s| format!("{:.2} ms", s * 1e3)).unwrap_or_default();
        let err = |v: f32| if v.is_nan() { "-".to_string() } else { format!("{v:.2e}") };
        let op = match self.op.chars().count() > OP_WIDTH {
            true => format!("{}\n{:OP_WIDTH$}", self.op, ""),
            false => self.op.clone(),
        };
        let mut line = format!(
            "{op:<OP_WIDTH$} {:<48} {:>9} {:>9}  {:<4} {:>10} {:>14}",
            self.case,
            err(self.max_abs),
            err(self.max_rel),
            if self.passed { "pass" } else { "FAIL" },
            time,
            self.throughput()
        );
        if let Some(m) = &self.message {
            line.push_str(&format!("\n                └ {m}"));
        }
        line
    }

    /// Column titles matching [`CaseResult::line`].
    pub fn header() -> String {
        format!(
            "{:<OP_WIDTH$} {:<48} {:>9} {:>9}  {:<4} {:>10} {:>14}",
            "op", "case", "max abs", "max rel", "", "GPU time", "throughput"
        )
    }
}

/// The op column's width.
const OP_WIDTH: usize = 15;

/// A case ready to run: its recorded launch, where the result lands, what it should be.
pub struct Prepared {
    pub op: &'static str,
    pub case: String,
    pub launch: Launch,
    pub output: Tensor,
    pub expected: Vec<f32>,
    pub tolerance: Tolerance,
    pub work: Work,
}

impl Prepared {
    /// Runs once and compares, then times `reps` more runs ([`Launch::time`]) and keeps the
    /// fastest.
    pub fn run(self, reps: usize) -> Result<CaseResult> {
        self.launch.run()?;
        let got = self.output.download()?;
        let comparison = self.tolerance.compare(&got, &self.expected);
        let mut result = CaseResult::from_comparison(self.op, &self.case, &comparison, self.output.shape());
        let mut best = f64::INFINITY;
        for _ in 0..reps {
            best = best.min(self.launch.time()?);
        }
        result.seconds = (reps > 0).then_some(best);
        result.work = Some(self.work);
        Ok(result)
    }
}

/// A section's one-line verdict: cases, failures, and the slowest case with its time.
pub fn section_summary(results: &[CaseResult]) -> String {
    let failed = results.iter().filter(|r| !r.passed).count();
    let slowest = results
        .iter()
        .filter_map(|r| r.seconds.map(|s| (s, r)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(s, r)| format!("; slowest {} {} ({:.2} ms)", r.op, r.case.trim(), s * 1e3))
        .unwrap_or_default();
    format!("{} cases, {failed} failed{slowest}", results.len())
}

/// Progress on stderr while a section runs, unless the run is `--quiet` or `--json`: a bar
/// (a spinner for phases) on a terminal, else a plain line at each phase and at every tenth of
/// the steps, so that a log shows a long run moving.
pub struct Progress {
    shown: Option<Shown>,
}

enum Shown {
    Bar(indicatif::ProgressBar),
    Plain { what: String, len: u64, done: std::cell::Cell<u64> },
}

impl Progress {
    /// Progress over `len` steps (phases when `len` is 0) titled `what`.
    pub fn new(shown: bool, len: u64, what: &str) -> Progress {
        use std::io::IsTerminal;
        if !shown {
            return Progress { shown: None };
        }
        if !std::io::stderr().is_terminal() {
            return Progress { shown: Some(Shown::Plain { what: what.into(), len, done: 0.into() }) };
        }
        let bar = match len {
            0 => indicatif::ProgressBar::new_spinner(),
            n => indicatif::ProgressBar::new(n),
        };
        let style = match len {
            0 => indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})"),
            _ => indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}"),
        };
        if let Ok(style) = style {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress { shown: Some(Shown::Bar(bar)) }
    }

    /// Says what runs now (a plain line only for phases).
    pub fn message(&self, message: &str) {
        match &self.shown {
            Some(Shown::Bar(bar)) => bar.set_message(message.to_string()),
            Some(Shown::Plain { what, len: 0, .. }) => eprintln!("{what}: {message}"),
            _ => {}
        }
    }

    /// One step done.
    pub fn step(&self, message: &str) {
        match &self.shown {
            Some(Shown::Bar(bar)) => {
                bar.set_message(message.to_string());
                bar.inc(1);
            }
            Some(Shown::Plain { what, len, done }) if *len > 0 => {
                done.set(done.get() + 1);
                let n = done.get();
                if n * 10 / len > (n - 1) * 10 / len {
                    eprintln!("{what}: {n}/{len}");
                }
            }
            _ => {}
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(Shown::Bar(bar)) = &self.shown {
            bar.finish_and_clear();
        }
    }
}

/// The closing line, `N passed, M failed`.
pub fn summary(results: &[CaseResult]) -> String {
    let passed = results.iter().filter(|r| r.passed).count();
    format!("{passed} passed, {} failed", results.len() - passed)
}
