//! Progress display for a live collection: one line per account-region on an interactive
//! terminal (REST APIs, keys, trails, events, LookupEvents calls), nothing when stderr is
//! piped or logs are on.

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Shows progress bars only when `visible` (an interactive stderr without -v).
    pub fn new(visible: bool) -> Self {
        Self {
            bars: visible.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    pub fn region(&self, account_id: &str, region: &str) -> RegionProgress {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:<28} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(format!("{account_id} {region}"));
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        let progress = RegionProgress {
            bar,
            counters: Default::default(),
        };
        progress.redraw();
        progress
    }

    pub fn finish(&self) {
        if let Some(bars) = &self.bars {
            let _ = bars.clear();
        }
    }
}

#[derive(Default)]
struct Counters {
    apis: AtomicU64,
    keys: AtomicU64,
    trails: AtomicU64,
    events: AtomicU64,
    lookup_calls: AtomicU64,
}

/// What one account-region has fetched so far.
pub struct RegionProgress {
    bar: Option<ProgressBar>,
    counters: Counters,
}

#[derive(Debug, Clone, Copy)]
pub enum Fetched {
    RestApis,
    Keys,
    Trails,
    Events,
    LookupCalls,
}

impl RegionProgress {
    pub fn add(&self, what: Fetched, count: u64) {
        let c = &self.counters;
        let counter = match what {
            Fetched::RestApis => &c.apis,
            Fetched::Keys => &c.keys,
            Fetched::Trails => &c.trails,
            Fetched::Events => &c.events,
            Fetched::LookupCalls => &c.lookup_calls,
        };
        counter.fetch_add(count, Ordering::Relaxed);
        self.redraw();
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            let c = &self.counters;
            let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
            bar.set_message(format!(
                "{} REST APIs, {} keys, {} trails, {} events ({} LookupEvents calls)",
                get(&c.apis),
                get(&c.keys),
                get(&c.trails),
                get(&c.events),
                get(&c.lookup_calls)
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
