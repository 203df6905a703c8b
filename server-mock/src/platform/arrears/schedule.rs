//! An insurer's reminder schedule: which message goes out how many days after an invoice fell
//! due, and when exactly, once quiet hours hold back SMS and push. Pure: the scheduler
//! (`reminders.rs`) gives it the times and records what was sent.
//!
//! A schedule is written as text, one step per comma: `3:push,10:email,10:sms,30:notice`
//! (`notice` is the formal notice, an email). That text is what an insurer's row stores.

use super::quiet_hours;

/// The schedule of an insurer that configured none.
pub const DEFAULT: &str = "3:push,10:email,10:sms,30:notice";
/// Most steps a schedule may have.
pub const MAX_STEPS: usize = 12;
/// Latest day after the due date a step may fall on.
pub const MAX_DAY: u16 = 365;
/// Longest schedule text accepted.
pub const MAX_TEXT: usize = 256;

/// How a step reaches the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A push to the member's signed-in phone.
    Push,
    /// An email reminder.
    Email,
    /// An SMS with the short link.
    Sms,
    /// The formal notice (mise en demeure), by email.
    Notice,
}

impl Kind {
    /// The word a schedule's text uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Push => "push",
            Kind::Email => "email",
            Kind::Sms => "sms",
            Kind::Notice => "notice",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "push" => Kind::Push,
            "email" => Kind::Email,
            "sms" => Kind::Sms,
            "notice" => Kind::Notice,
            _ => return None,
        })
    }

    /// Whether quiet hours hold this kind back (SMS and push wake people; email does not).
    pub fn waits_for_daytime(self) -> bool {
        matches!(self, Kind::Push | Kind::Sms)
    }
}

/// One step: a kind of message, so many days after the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Step {
    /// Days after the due date.
    pub day: u16,
    /// The message.
    pub kind: Kind,
}

impl Step {
    /// The step's name, unique within a schedule: `d3-push`, `d30-notice`. The sent-message
    /// table's unique index is on (invoice, this name).
    pub fn name(&self) -> String {
        format!("d{}-{}", self.day, self.kind.as_str())
    }

    /// When the step is due for an invoice that fell due at `due_at` (Unix seconds): `day`
    /// days later, then, for SMS and push, the end of the quiet hours if it falls in them.
    pub fn send_at(&self, due_at: i64) -> i64 {
        let at = due_at.saturating_add(i64::from(self.day) * 86_400);
        if self.kind.waits_for_daytime() {
            quiet_hours::next_allowed(at)
        } else {
            at
        }
    }
}

/// Why a schedule's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Empty, or longer than [`MAX_TEXT`].
    #[error("a schedule has 1 to {MAX_STEPS} steps in at most {MAX_TEXT} characters")]
    Size,
    /// A step is not `DAY:KIND`.
    #[error("step {0} is not DAY:KIND with DAY 0 to 365 and KIND push, email, sms or notice")]
    Step(usize),
    /// The same step twice.
    #[error("step {0} repeats an earlier one")]
    Duplicate(usize),
}

/// Steps in the order they fall due (by day, then kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    steps: Vec<Step>,
}

impl Schedule {
    /// The default: D+3 push, D+10 email and SMS, D+30 formal notice.
    pub fn default_schedule() -> Self {
        // The constant is valid; the unit tests parse it.
        Self::parse(DEFAULT).unwrap_or(Self { steps: Vec::new() })
    }

    /// Parses `DAY:KIND,…` (spaces around items allowed).
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        if text.trim().is_empty() || text.len() > MAX_TEXT {
            return Err(ScheduleError::Size);
        }
        let mut steps = Vec::new();
        for (i, item) in text.split(',').enumerate() {
            if i >= MAX_STEPS {
                return Err(ScheduleError::Size);
            }
            let (day, kind) = item.trim().split_once(':').ok_or(ScheduleError::Step(i))?;
            let day: u16 = day
                .trim()
                .parse()
                .ok()
                .filter(|d| *d <= MAX_DAY)
                .ok_or(ScheduleError::Step(i))?;
            let kind = Kind::parse(kind.trim()).ok_or(ScheduleError::Step(i))?;
            let step = Step { day, kind };
            if steps.contains(&step) {
                return Err(ScheduleError::Duplicate(i));
            }
            steps.push(step);
        }
        steps.sort();
        Ok(Self { steps })
    }

    /// The steps, earliest first.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The text form, which [`Schedule::parse`] reads back.
    pub fn to_text(&self) -> String {
        self.steps
            .iter()
            .map(|s| format!("{}:{}", s.day, s.kind.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The step at `index` of the earliest-first order and when it is due, or `None` past the
    /// last.
    pub fn step(&self, index: usize, due_at: i64) -> Option<(Step, i64)> {
        self.steps.get(index).map(|s| (*s, s.send_at(due_at)))
    }

    /// The next step to wait for after `index`: the earliest `send_at` among the later steps
    /// (quiet hours can put a D+3 push after a D+3 email; order by time, not by day).
    pub fn pending(&self, sent: &[Step], due_at: i64) -> Option<(Step, i64)> {
        self.steps
            .iter()
            .filter(|s| !sent.contains(s))
            .map(|s| (*s, s.send_at(due_at)))
            .min_by_key(|(s, at)| (*at, *s))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> i64 {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().timestamp()
    }

    #[test]
    fn the_default_is_push_then_email_and_sms_then_notice() {
        let s = Schedule::default_schedule();
        let names: Vec<_> = s.steps().iter().map(Step::name).collect();
        assert_eq!(names, ["d3-push", "d10-email", "d10-sms", "d30-notice"]);
        assert_eq!(s.to_text(), DEFAULT);
        assert_eq!(Schedule::parse(&s.to_text()).unwrap(), s);
    }

    #[test]
    fn steps_fall_on_their_day_and_push_and_sms_wait_for_morning() {
        let s = Schedule::default_schedule();
        // Due 1 December 2026 at 21:00 UTC = 22:00 Paris.
        let due = utc(2026, 12, 1, 21);
        let at: Vec<_> = s.steps().iter().map(|st| st.send_at(due)).collect();
        // D+3 push at 22:00 Paris waits for 08:00 Paris the next morning (07:00 UTC).
        assert_eq!(at[0], utc(2026, 12, 5, 7));
        // D+10 email goes at 22:00; the SMS waits; D+30 notice at 22:00.
        assert_eq!(at[1], due + 10 * 86_400);
        assert_eq!(at[2], utc(2026, 12, 12, 7));
        assert_eq!(at[3], due + 30 * 86_400);
        // Due at noon: nothing waits.
        let noon = utc(2026, 12, 1, 11);
        assert_eq!(s.steps()[0].send_at(noon), noon + 3 * 86_400);
    }

    #[test]
    fn pending_orders_by_time_and_skips_what_was_sent() {
        let s = Schedule::default_schedule();
        let due = utc(2026, 12, 1, 21);
        let (first, _) = s.pending(&[], due).unwrap();
        assert_eq!(first.name(), "d3-push");
        let sent = [s.steps()[0]];
        // The D+10 email (22:00) comes before the D+10 SMS (next 08:00).
        assert_eq!(s.pending(&sent, due).unwrap().0.name(), "d10-email");
        assert!(s.pending(s.steps(), due).is_none());
        assert_eq!(s.step(1, due).unwrap().0.name(), "d10-email");
        assert!(s.step(4, due).is_none());
    }

    #[test]
    fn insurer_schedules_are_read_and_bad_ones_named() {
        let s = Schedule::parse(" 30:notice , 1:sms,1:email ").unwrap();
        assert_eq!(s.to_text(), "1:email,1:sms,30:notice");
        assert_eq!(Schedule::parse(""), Err(ScheduleError::Size));
        assert_eq!(Schedule::parse("3:fax"), Err(ScheduleError::Step(0)));
        assert_eq!(
            Schedule::parse("3:push,366:email"),
            Err(ScheduleError::Step(1))
        );
        assert_eq!(Schedule::parse("-1:push"), Err(ScheduleError::Step(0)));
        assert_eq!(Schedule::parse("3push"), Err(ScheduleError::Step(0)));
        assert_eq!(
            Schedule::parse("3:push,3:push"),
            Err(ScheduleError::Duplicate(1))
        );
        let thirteen: Vec<_> = (0..13).map(|d| format!("{d}:sms")).collect();
        assert_eq!(
            Schedule::parse(&thirteen.join(",")),
            Err(ScheduleError::Size)
        );
        assert_eq!(Schedule::parse(&"1".repeat(300)), Err(ScheduleError::Size));
    }
}
