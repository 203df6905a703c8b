//! Quiet hours: no SMS or push between 21:00 and 08:00 Paris time. A message due inside them
//! waits until the next 08:00 in Paris. The zone's own rules (the tz database through
//! chrono-tz) decide the UTC instant, so the window follows summer time: 08:00 Paris is 06:00 UTC
//! in summer and 07:00 UTC in winter. Pure: no clock is read here.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Paris;

/// Local hour (Paris) from which SMS and push wait.
pub const QUIET_FROM_HOUR: u32 = 21;
/// Local hour (Paris) at which they may go again.
pub const QUIET_UNTIL_HOUR: u32 = 8;

/// Whether `at` (Unix seconds) falls in the quiet hours, 21:00 inclusive to 08:00 exclusive,
/// Paris time.
pub fn is_quiet(at: i64) -> bool {
    match DateTime::<Utc>::from_timestamp(at, 0) {
        Some(utc) => {
            let hour = utc.with_timezone(&Paris).hour();
            !(QUIET_UNTIL_HOUR..QUIET_FROM_HOUR).contains(&hour)
        }
        // Outside chrono's range (hundreds of thousands of years): nothing to hold.
        None => false,
    }
}

/// The first instant at or after `at` (Unix seconds) outside the quiet hours: `at` itself, or
/// the next 08:00:00 Paris time.
pub fn next_allowed(at: i64) -> i64 {
    if !is_quiet(at) {
        return at;
    }
    let Some(utc) = DateTime::<Utc>::from_timestamp(at, 0) else {
        return at;
    };
    let local = utc.with_timezone(&Paris);
    let day = if local.hour() >= QUIET_FROM_HOUR {
        local.date_naive() + Duration::days(1)
    } else {
        local.date_naive()
    };
    let eight = day.and_time(NaiveTime::from_hms_opt(QUIET_UNTIL_HOUR, 0, 0).unwrap_or_default());
    // 08:00 is never in a DST gap or fold in Paris (those are at 02:00-03:00), so `earliest`
    // is the one answer; the fallback only guards a zone change no rule has yet.
    Paris
        .from_local_datetime(&eight)
        .earliest()
        .map(|t| t.timestamp())
        .unwrap_or(at + 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn daytime_passes_and_evening_waits_for_eight_paris() {
        // 1 December 2026, winter (UTC+1): 12:00 Paris is 11:00 UTC.
        assert_eq!(
            next_allowed(utc(2026, 12, 1, 11, 0)),
            utc(2026, 12, 1, 11, 0)
        );
        // 20:59 Paris (19:59 UTC) still goes; 21:00 Paris (20:00 UTC) waits for 07:00 UTC.
        assert!(!is_quiet(utc(2026, 12, 1, 19, 59)));
        assert!(is_quiet(utc(2026, 12, 1, 20, 0)));
        assert_eq!(
            next_allowed(utc(2026, 12, 1, 21, 0)),
            utc(2026, 12, 2, 7, 0)
        );
        // 03:00 Paris waits until 08:00 the same day; 08:00 exactly goes.
        assert_eq!(next_allowed(utc(2026, 12, 2, 2, 0)), utc(2026, 12, 2, 7, 0));
        assert!(!is_quiet(utc(2026, 12, 2, 7, 0)));
        assert!(is_quiet(utc(2026, 12, 2, 6, 59)));
    }

    #[test]
    fn summer_time_moves_the_window_in_utc() {
        // 15 July 2026 (UTC+2): 21:00 Paris is 19:00 UTC, 08:00 Paris is 06:00 UTC.
        assert!(!is_quiet(utc(2026, 7, 15, 18, 59)));
        assert!(is_quiet(utc(2026, 7, 15, 19, 0)));
        assert_eq!(
            next_allowed(utc(2026, 7, 15, 19, 0)),
            utc(2026, 7, 16, 6, 0)
        );
        // 20:30 UTC in summer is 22:30 Paris: quiet; in winter it is 21:30: quiet too; 19:30
        // UTC is 21:30 in summer (quiet) but 20:30 in winter (not).
        assert!(is_quiet(utc(2026, 7, 15, 19, 30)));
        assert!(!is_quiet(utc(2026, 12, 15, 19, 30)));
    }

    #[test]
    fn the_night_clocks_go_forward_last_sunday_of_march() {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC). Saturday 22:00 Paris
        // (21:00 UTC, still winter) waits until Sunday 08:00 CEST = 06:00 UTC, not 07:00.
        assert_eq!(
            next_allowed(utc(2026, 3, 28, 21, 0)),
            utc(2026, 3, 29, 6, 0)
        );
        // During the skipped hour's instant itself (01:30 UTC = 03:30 CEST): same answer.
        assert_eq!(
            next_allowed(utc(2026, 3, 29, 1, 30)),
            utc(2026, 3, 29, 6, 0)
        );
        // Sunday 07:30 UTC is 09:30 CEST: allowed; 06:59 UTC is 08:59: allowed; 05:59 is 07:59.
        assert!(!is_quiet(utc(2026, 3, 29, 6, 0)));
        assert!(is_quiet(utc(2026, 3, 29, 5, 59)));
        // Sunday evening: 21:00 CEST is 19:00 UTC.
        assert!(is_quiet(utc(2026, 3, 29, 19, 0)));
        assert!(!is_quiet(utc(2026, 3, 29, 18, 59)));
    }

    #[test]
    fn the_night_clocks_go_back_last_sunday_of_october() {
        // 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-03:00 happens
        // twice. Saturday 21:00 CEST (19:00 UTC) waits until Sunday 08:00 CET = 07:00 UTC.
        assert!(is_quiet(utc(2026, 10, 24, 19, 0)));
        assert_eq!(
            next_allowed(utc(2026, 10, 24, 19, 0)),
            utc(2026, 10, 25, 7, 0)
        );
        // Both 02:30s (00:30 and 01:30 UTC) wait for the same 08:00.
        assert_eq!(
            next_allowed(utc(2026, 10, 25, 0, 30)),
            utc(2026, 10, 25, 7, 0)
        );
        assert_eq!(
            next_allowed(utc(2026, 10, 25, 1, 30)),
            utc(2026, 10, 25, 7, 0)
        );
        assert!(is_quiet(utc(2026, 10, 25, 6, 59)));
        assert!(!is_quiet(utc(2026, 10, 25, 7, 0)));
        // Sunday evening: 21:00 CET is 20:00 UTC.
        assert!(!is_quiet(utc(2026, 10, 25, 19, 59)));
        assert!(is_quiet(utc(2026, 10, 25, 20, 0)));
    }

    #[test]
    fn next_allowed_is_never_quiet_and_never_earlier() {
        // Every quarter hour across both 2026 transitions' weeks.
        for start in [utc(2026, 3, 25, 0, 0), utc(2026, 10, 21, 0, 0)] {
            for q in 0..(7 * 96) {
                let at = start + q * 900;
                let next = next_allowed(at);
                assert!(next >= at, "{at}");
                assert!(!is_quiet(next), "{at} -> {next}");
                assert!(next - at <= 11 * 3600 + 3600, "{at} waits too long");
            }
        }
    }
}
