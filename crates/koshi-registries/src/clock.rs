//! The clock, passed in: services read time only through this trait, so tests drive a
//! simulated clock that jumps hours or weeks without sleeping.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(at))
    }
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
    pub fn advance(&self, by: SignedDuration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t = t.checked_add(by).unwrap_or(*t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A drill's clock: the machine's clock moved ahead by an offset an operator sets, so that legal
/// terms can be shown firing without waiting for them. Time keeps flowing; the offset only grows
/// (the clock never goes backwards).
#[derive(Debug, Default)]
pub struct SimulatedClock {
    offset_ms: AtomicI64,
}

impl SimulatedClock {
    pub fn new(offset_ms: i64) -> SimulatedClock {
        SimulatedClock {
            offset_ms: AtomicI64::new(offset_ms.max(0)),
        }
    }

    /// The offset from the machine's clock, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }

    /// Moves the clock to `at`; refused when `at` is before the clock's present.
    pub fn set(&self, at: Timestamp) -> Result<Timestamp, String> {
        let now = self.now();
        if at < now {
            return Err(format!(
                "the simulated clock never goes backwards: it is {now}, not {at}"
            ));
        }
        let by = at.duration_since(now);
        self.advance(by)
    }

    /// Moves the clock ahead by `by` (positive).
    pub fn advance(&self, by: SignedDuration) -> Result<Timestamp, String> {
        if by.is_negative() {
            return Err("the simulated clock never goes backwards".into());
        }
        let ms = i64::try_from(by.as_millis()).map_err(|_| "too far ahead".to_string())?;
        self.offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| o.checked_add(ms))
            .map_err(|_| "too far ahead".to_string())?;
        Ok(self.now())
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        now.checked_add(SignedDuration::from_millis(self.offset_ms()))
            .unwrap_or(now)
    }
}
