//! The calendar day in metropolitan France, from a Unix time: care dates, ages and yearly
//! counters are French calendar days, and a phone's UTC date is wrong around midnight.
//! Europe/Paris: UTC+1, and UTC+2 from the last Sunday of March 01:00 UTC to the last Sunday of
//! October 01:00 UTC.

use time::{Date, Duration, Month, OffsetDateTime};

fn last_sunday(year: i32, month: Month) -> Date {
    let last_day =
        Date::from_calendar_date(year, month, 31).expect("March and October have 31 days");
    let back = last_day.weekday().number_days_from_sunday();
    last_day - Duration::days(i64::from(back))
}

/// The date in Paris at `unix_seconds`.
pub fn paris_date(unix_seconds: i64) -> Date {
    let utc =
        OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let year = utc.year();
    let at_one = |d: Date| d.with_hms(1, 0, 0).expect("valid time").assume_utc();
    let summer = utc >= at_one(last_sunday(year, Month::March))
        && utc < at_one(last_sunday(year, Month::October));
    (utc + Duration::hours(if summer { 2 } else { 1 })).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Weekday;

    fn at(t: OffsetDateTime) -> Date {
        paris_date(t.unix_timestamp())
    }

    #[test]
    fn midnight_in_paris_is_not_midnight_utc() {
        assert_eq!(
            at(datetime!(2026-11-21 23:30 UTC)),
            time::macros::date!(2026 - 11 - 22)
        );
        assert_eq!(
            at(datetime!(2026-11-21 22:59 UTC)),
            time::macros::date!(2026 - 11 - 21)
        );
        assert_eq!(
            at(datetime!(2026-07-14 22:30 UTC)),
            time::macros::date!(2026 - 07 - 15)
        );
        assert_eq!(
            at(datetime!(2026-07-14 21:30 UTC)),
            time::macros::date!(2026 - 07 - 14)
        );
        // Changes of time: 29 March 2026 and 25 October 2026, at 01:00 UTC.
        assert_eq!(last_sunday(2026, Month::March).weekday(), Weekday::Sunday);
        assert_eq!(last_sunday(2026, Month::March).day(), 29);
        assert_eq!(last_sunday(2026, Month::October).day(), 25);
        assert_eq!(
            at(datetime!(2026-12-31 23:00 UTC)),
            time::macros::date!(2027 - 01 - 01)
        );
    }
}
