//! Tests of Quartz cron parsing and scheduling: known schedules, DST, fuzzing, errors.

use super::*;

fn la() -> TimeZone {
    TimeZone::get(DEFAULT_TIME_ZONE).unwrap()
}

fn at(s: &str) -> ZonedDateTime {
    s.parse().unwrap()
}

fn next(expr: &str, after: &str) -> String {
    CronExpression::parse(expr)
        .unwrap()
        .next_after(&at(after))
        .unwrap()
        .to_string()
}

fn series(expr: &str, after: &str, n: usize) -> Vec<String> {
    let c = CronExpression::parse(expr).unwrap();
    let mut t = at(after);
    (0..n)
        .map(|_| {
            t = c.next_after(&t).unwrap();
            t.to_string()
        })
        .collect()
}

#[test]
fn weekday_mornings() {
    // 2026-11-27 is a Friday.
    assert_eq!(
        series(
            "0 0 10 ? * MON-FRI",
            "2026-11-27T11:00:00-08:00[America/Los_Angeles]",
            2
        ),
        [
            "2026-11-30T10:00:00-08:00[America/Los_Angeles]",
            "2026-12-01T10:00:00-08:00[America/Los_Angeles]"
        ]
    );
}

#[test]
fn corpus_hourly_expression_with_year_field() {
    assert_eq!(
        series(
            "0 0 0/1 1/1 * ? *",
            "2026-03-01T10:20:00-08:00[America/Los_Angeles]",
            2
        ),
        [
            "2026-03-01T11:00:00-08:00[America/Los_Angeles]",
            "2026-03-01T12:00:00-08:00[America/Los_Angeles]"
        ]
    );
}

#[test]
fn input_in_another_zone_is_converted() {
    assert_eq!(
        next("0 30 9 * * ?", "2026-06-01T00:00:00+00:00[UTC]"),
        "2026-06-01T09:30:00-07:00[America/Los_Angeles]"
    );
}

#[test]
fn dst_spring_forward_shifts_skipped_time() {
    // 2026-03-08 02:00 PST -> 03:00 PDT in Los Angeles: 02:30 does not exist that day.
    assert_eq!(
        series(
            "0 30 2 * * ?",
            "2026-03-07T12:00:00-08:00[America/Los_Angeles]",
            3
        ),
        [
            "2026-03-08T03:30:00-07:00[America/Los_Angeles]",
            "2026-03-09T02:30:00-07:00[America/Los_Angeles]",
            "2026-03-10T02:30:00-07:00[America/Los_Angeles]",
        ]
    );
}

#[test]
fn dst_fall_back_fires_once_for_daily_and_stays_monotonic_for_hourly() {
    // 2026-11-01 02:00 PDT -> 01:00 PST.
    assert_eq!(
        series(
            "0 30 1 * * ?",
            "2026-10-31T12:00:00-07:00[America/Los_Angeles]",
            2
        ),
        [
            "2026-11-01T01:30:00-07:00[America/Los_Angeles]",
            "2026-11-02T01:30:00-08:00[America/Los_Angeles]"
        ]
    );
    // Starting inside the repeated hour gives the second 01:45, never an earlier instant.
    assert_eq!(
        next(
            "0 45 1 * * ?",
            "2026-11-01T01:10:00-08:00[America/Los_Angeles]"
        ),
        "2026-11-01T01:45:00-08:00[America/Los_Angeles]"
    );
}

#[test]
fn last_day_weekday_and_nth() {
    let tz = "[America/Los_Angeles]";
    assert_eq!(
        next("0 0 12 L * ?", &format!("2026-02-10T00:00:00-08:00{tz}")),
        format!("2026-02-28T12:00:00-08:00{tz}")
    );
    assert_eq!(
        next("0 0 12 L-2 * ?", &format!("2026-02-10T00:00:00-08:00{tz}")),
        format!("2026-02-26T12:00:00-08:00{tz}")
    );
    // 2026-05-31 is a Sunday: last weekday is Friday the 29th.
    assert_eq!(
        next("0 0 12 LW * ?", &format!("2026-05-01T00:00:00-07:00{tz}")),
        format!("2026-05-29T12:00:00-07:00{tz}")
    );
    // 2026-08-01 is a Saturday: 1W is Monday the 3rd (never the previous month).
    assert_eq!(
        next("0 0 12 1W * ?", &format!("2026-07-31T00:00:00-07:00{tz}")),
        format!("2026-08-03T12:00:00-07:00{tz}")
    );
    // 2026-11-15 is a Sunday: 15W is Monday the 16th.
    assert_eq!(
        next("0 0 12 15W * ?", &format!("2026-11-01T00:00:00-07:00{tz}")),
        format!("2026-11-16T12:00:00-08:00{tz}")
    );
    // Third Friday of December 2026 is the 18th; last Friday is the 25th.
    assert_eq!(
        next("0 0 12 ? * 6#3", &format!("2026-12-01T00:00:00-08:00{tz}")),
        format!("2026-12-18T12:00:00-08:00{tz}")
    );
    assert_eq!(
        next("0 0 12 ? * FRIL", &format!("2026-12-01T00:00:00-08:00{tz}")),
        format!("2026-12-25T12:00:00-08:00{tz}")
    );
    assert_eq!(
        next("0 0 12 ? * 6L", &format!("2026-12-01T00:00:00-08:00{tz}")),
        format!("2026-12-25T12:00:00-08:00{tz}")
    );
}

#[test]
fn steps_lists_ranges_names_and_years() {
    let tz = "[America/Los_Angeles]";
    assert_eq!(
        series(
            "*/20 * * * * ?",
            &format!("2026-01-01T00:00:05-08:00{tz}"),
            3
        ),
        [
            format!("2026-01-01T00:00:20-08:00{tz}"),
            format!("2026-01-01T00:00:40-08:00{tz}"),
            format!("2026-01-01T00:01:00-08:00{tz}")
        ]
    );
    assert_eq!(
        next("0 0 22-2 * * ?", &format!("2026-01-01T23:30:00-08:00{tz}")),
        format!("2026-01-02T00:00:00-08:00{tz}")
    );
    assert_eq!(
        next(
            "0 0 0 1 jan,jul ? 2030",
            &format!("2026-01-01T00:00:00-08:00{tz}")
        ),
        format!("2030-01-01T00:00:00-08:00{tz}")
    );
    assert_eq!(
        next("0 0 0 29 2 ?", &format!("2026-03-01T00:00:00-08:00{tz}")),
        format!("2028-02-29T00:00:00-08:00{tz}")
    );
    assert_eq!(
        CronExpression::parse("0 0 0 30 2 ?")
            .unwrap()
            .next_after(&at(&format!("2026-03-01T00:00:00-08:00{tz}"))),
        None
    );
    assert_eq!(
        CronExpression::parse("0 0 0 1 1 ? 2020")
            .unwrap()
            .next_after(&at(&format!("2026-03-01T00:00:00-08:00{tz}"))),
        None
    );
}

#[test]
fn h_fuzzing_uses_java_hash_of_trigger_id() {
    assert_eq!(java_string_hash(""), 0);
    assert_eq!(java_string_hash("abc"), 96354);
    assert_eq!(java_string_hash("047b546f-fcaf-4035-a2e6-04d497335074"), {
        let mut h: i32 = 0;
        for c in "047b546f-fcaf-4035-a2e6-04d497335074".chars() {
            h = h.wrapping_mul(31).wrapping_add(c as i32);
        }
        h
    });
    // 96354 % 60 = 54, 96354 % 24 = 18
    assert_eq!(fuzz("H H H * * ?", "abc"), "54 54 18 * * ?");
    assert_eq!(fuzz("0 H/15 * * * ?", "abc"), "0 54/15 * * * ?");
    let c = CronExpression::parse_in("0 H H * * ?", "abc", la()).unwrap();
    assert_eq!(
        c.next_after(&at("2026-01-01T00:00:00-08:00[America/Los_Angeles]"))
            .unwrap()
            .to_string(),
        "2026-01-01T18:54:00-08:00[America/Los_Angeles]"
    );
}

#[test]
fn series_across_dst_changes_are_strictly_increasing() {
    for expr in [
        "0 30 2 * * ?",
        "15 */7 * * * ?",
        "0 0 1-3 ? * SUN",
        "0 */30 * * * ?",
        "0 45 1 * * ?",
    ] {
        for start in [
            "2026-03-07T00:00:00-08:00[America/Los_Angeles]",
            "2026-10-31T00:00:00-07:00[America/Los_Angeles]",
        ] {
            let c = CronExpression::parse(expr).unwrap();
            let mut t = at(start);
            for _ in 0..300 {
                let n = c.next_after(&t).unwrap();
                assert!(n.timestamp() > t.timestamp(), "{expr}: {n} after {t}");
                t = n;
            }
        }
    }
    // Half-hourly across the fall-back night: 01:00 and 01:30 happen in PDT, then 02:00 PST.
    assert_eq!(
        series(
            "0 */30 * * * ?",
            "2026-11-01T00:45:00-07:00[America/Los_Angeles]",
            4
        ),
        [
            "2026-11-01T01:00:00-07:00[America/Los_Angeles]",
            "2026-11-01T01:30:00-07:00[America/Los_Angeles]",
            "2026-11-01T02:00:00-08:00[America/Los_Angeles]",
            "2026-11-01T02:30:00-08:00[America/Los_Angeles]",
        ]
    );
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(s in "[0-9A-Z*?/,#LW -]{0,30}", id in "\\PC{0,8}") {
        let _ = CronExpression::parse_in(&s, &id, TimeZone::UTC).map(|c| c.next_after(&at("2026-01-01T00:00:00+00:00[UTC]")));
    }

    /// Over random instants (DST days included), the next fire time is strictly later and
    /// lands on a matching wall-clock time (only a DST gap may shift the hour).
    #[test]
    fn next_after_is_later_and_matches(secs in 1_700_000_000i64..1_900_000_000, pick in 0usize..5) {
        let exprs = ["0 30 2 * * ?", "15 */7 * * * ?", "0 0 1-3 ? * SUN", "0 0 12 LW * ?", "0 45 1 * * ?"];
        let c = CronExpression::parse(exprs[pick]).unwrap();
        let after = Timestamp::from_second(secs).unwrap().to_zoned_datetime(la());
        let next = c.next_after(&after).unwrap();
        proptest::prop_assert!(next.timestamp() > after.timestamp());
        let again = c.next_after(&next).unwrap();
        proptest::prop_assert!(again.timestamp() > next.timestamp());
        let civil = next.datetime();
        proptest::prop_assert!(c.seconds.contains(civil.second() as u32));
        proptest::prop_assert!(c.minutes.contains(civil.minute() as u32));
        if pick != 0 {
            // only 02:30 can fall into the spring-forward gap and move to 03:30
            proptest::prop_assert!(c.hours.contains(civil.hour() as u32));
        }
    }
}

#[test]
fn errors_name_the_field() {
    let msg = |e: &str| CronExpression::parse(e).unwrap_err().to_string();
    assert!(msg("0 0 * * *").contains("has 5 field(s), expected 6 or 7"));
    assert_eq!(
        msg("0 61 * * * ?"),
        "cron expression \"0 61 * * * ?\": minutes field \"61\": 61 is outside 0-59"
    );
    assert!(msg("0 0 0 * FOO ?").contains("month field \"FOO\""));
    assert!(msg("0 0 0 ? * 8").contains("day-of-week field \"8\": 8 is outside 1-7"));
    assert!(msg("0 0 0 * * *").contains("one of day-of-month and day-of-week must be '?'"));
    assert!(msg("0 0 0 ? * ?").contains("not both"));
    assert!(msg("? 0 0 * * ?").contains("seconds field"));
    assert!(msg("0 0 0 ? * 2#6").contains("1-5"));
    assert!(msg("0 */0 0 ? * *").contains("step 0"));
    assert!(msg("0 0 0 * * ? 1960").contains("year field"));
    assert!(msg("0 0 H(0-5) * * ?").contains("hours field"));
}
