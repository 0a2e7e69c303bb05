//! Quartz cron expressions as Echo schedules them (§4.3), with `H` fuzzing and a time zone.
//!
//! Fields: `seconds minutes hours day-of-month month day-of-week [year]` (6 or 7, split on
//! whitespace, case-insensitive). Each field takes `*`, values, lists, ranges (wrapping ranges
//! such as `22-2` too), steps (`*/5`, `3/5`, `1-10/2`), month and day names (`JAN`, `MON-FRI`).
//! Day-of-month also takes `L`, `L-n`, `LW` and `nW`; day-of-week takes `L`, `nL` and `n#k`
//! (1 = Sunday). Exactly one of day-of-month and day-of-week must be `?`, as in Quartz. Years run
//! 1970 to 2099.
//!
//! `H` in the seconds, minutes or hours field is replaced by `abs(id.hashCode()) % 60` (or `% 24`)
//! of the trigger id, Java `String.hashCode` semantics, like Echo's `CronExpressionFuzzer`.
//!
//! Schedules are computed in one time zone, by default `America/Los_Angeles` (Echo's
//! `scheduler.cron.timezone`). A wall-clock time skipped by a DST jump fires at the shifted
//! instant (2:30 becomes 3:30); a repeated wall-clock time fires once, at its first occurrence,
//! unless the search starts inside the repeated hour.

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ZonedDateTime};

/// Echo's default scheduler time zone.
pub const DEFAULT_TIME_ZONE: &str = "America/Los_Angeles";

const MIN_YEAR: u32 = 1970;
const MAX_YEAR: u32 = 2099;
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A cron expression that Quartz would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CronError {
    /// Not 6 or 7 fields.
    #[error(
        "cron expression {expression:?} has {count} field(s), expected 6 or 7: seconds minutes hours day-of-month month day-of-week [year]"
    )]
    FieldCount {
        /// The expression received.
        expression: String,
        /// Number of fields found.
        count: usize,
    },
    /// One field is invalid.
    #[error("cron expression {expression:?}: {field} field {value:?}: {reason}")]
    Field {
        /// The expression received.
        expression: String,
        /// The field name, e.g. `"day-of-week"`.
        field: &'static str,
        /// The field text.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// Day-of-month and day-of-week are both set or both `?`.
    #[error("cron expression {expression:?}: {reason}")]
    DayFields {
        /// The expression received.
        expression: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The time zone is unknown.
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
}

/// A set of small integers `min..=max`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set {
    min: u32,
    bits: Vec<bool>,
}

impl Set {
    fn new(min: u32, max: u32) -> Self {
        Self {
            min,
            bits: vec![false; (max - min + 1) as usize],
        }
    }
    fn insert(&mut self, v: u32) {
        if let Some(b) = v
            .checked_sub(self.min)
            .and_then(|i| self.bits.get_mut(i as usize))
        {
            *b = true;
        }
    }
    fn contains(&self, v: u32) -> bool {
        v.checked_sub(self.min)
            .and_then(|i| self.bits.get(i as usize))
            .copied()
            .unwrap_or(false)
    }
    /// The smallest member `>= v`.
    fn next_at_or_after(&self, v: u32) -> Option<u32> {
        let start = v.saturating_sub(self.min) as usize;
        self.bits
            .iter()
            .skip(start)
            .position(|&b| b)
            .map(|i| (start + i) as u32 + self.min)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfMonth {
    Any,
    Values(Set),
    /// `L` or `L-n`: the last day minus `n`.
    Last(u32),
    /// `LW`: the last weekday (Mon-Fri) of the month.
    LastWeekday,
    /// `nW`: the weekday nearest to day `n`, within the month.
    NearestWeekday(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfWeek {
    Any,
    Values(Set),
    /// `nL`: the last day `n` of the month.
    Last(u32),
    /// `n#k`: the `k`th day `n` of the month.
    Nth(u32, u32),
}

/// A parsed Quartz cron expression bound to a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct CronExpression {
    source: String,
    seconds: Set,
    minutes: Set,
    hours: Set,
    day_of_month: DayOfMonth,
    months: Set,
    day_of_week: DayOfWeek,
    years: Set,
    time_zone: TimeZone,
}

/// Java's `String.hashCode` over UTF-16 code units.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Replaces `H` in the seconds, minutes and hours fields like Echo's `CronExpressionFuzzer`.
pub fn fuzz(expression: &str, trigger_id: &str) -> String {
    if !expression.contains('H') {
        return expression.to_owned();
    }
    // Java: Math.abs(hashCode) (which stays negative for i32::MIN) then %.
    let hash = java_string_hash(trigger_id).wrapping_abs();
    expression
        .split_whitespace()
        .enumerate()
        .map(|(i, f)| match i {
            0 | 1 => f.replace('H', &(hash % 60).to_string()),
            2 => f.replace('H', &(hash % 24).to_string()),
            _ => f.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

struct FieldParser<'a> {
    expression: &'a str,
    field: &'static str,
    value: &'a str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    name_base: u32,
}

impl FieldParser<'_> {
    fn err(&self, reason: impl Into<String>) -> CronError {
        CronError::Field {
            expression: self.expression.to_owned(),
            field: self.field,
            value: self.value.to_owned(),
            reason: reason.into(),
        }
    }

    fn number(&self, s: &str) -> Result<u32, CronError> {
        let v = if let Some(pos) = self.names.iter().position(|n| *n == s) {
            pos as u32 + self.name_base
        } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u32>()
                .map_err(|_| self.err(format!("{s:?} is too large")))?
        } else {
            return Err(self.err(format!("{s:?} is not a number{}", self.name_hint())));
        };
        if v < self.min || v > self.max {
            return Err(self.err(format!("{v} is outside {}-{}", self.min, self.max)));
        }
        Ok(v)
    }

    fn name_hint(&self) -> String {
        match self.names.first() {
            Some(first) => format!(" or a name such as {first}"),
            None => String::new(),
        }
    }

    /// Parses a list of `*`, `a`, `a-b`, `*/n`, `a/n`, `a-b/n` items.
    fn set(&self) -> Result<Set, CronError> {
        let mut set = Set::new(self.min, self.max);
        for item in self.value.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s
                        .parse()
                        .map_err(|_| self.err(format!("step {s:?} is not a number")))?;
                    if step == 0 || step > self.max {
                        return Err(self.err(format!("step {step} is outside 1-{}", self.max)));
                    }
                    (r, step)
                }
                None => (item, 1),
            };
            let (start, end) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                (self.number(a)?, self.number(b)?)
            } else {
                let a = self.number(range)?;
                (a, if item.contains('/') { self.max } else { a })
            };
            // Quartz wraps ranges such as 22-2 (hours) or FRI-MON.
            let span = if end >= start {
                end - start
            } else {
                end + (self.max - self.min + 1) - start
            };
            let mut offset = 0;
            while offset <= span {
                let mut v = start + offset;
                if v > self.max {
                    v -= self.max - self.min + 1;
                }
                set.insert(v);
                offset += step;
            }
        }
        Ok(set)
    }
}

impl CronExpression {
    /// Parses an expression in [`DEFAULT_TIME_ZONE`], fuzzing `H` with an empty trigger id.
    ///
    /// # Errors
    ///
    /// A [`CronError`] naming the field at fault.
    pub fn parse(expression: &str) -> Result<Self, CronError> {
        let tz = TimeZone::get(DEFAULT_TIME_ZONE)
            .map_err(|_| CronError::TimeZone(DEFAULT_TIME_ZONE.to_owned()))?;
        Self::parse_in(expression, "", tz)
    }

    /// Parses an expression for a trigger id (for `H`) in a time zone.
    ///
    /// # Errors
    ///
    /// A [`CronError`] naming the field at fault.
    pub fn parse_in(
        expression: &str,
        trigger_id: &str,
        time_zone: TimeZone,
    ) -> Result<Self, CronError> {
        let fuzzed = fuzz(expression, trigger_id).to_ascii_uppercase();
        let fields: Vec<&str> = fuzzed.split_whitespace().collect();
        if fields.len() != 6 && fields.len() != 7 {
            return Err(CronError::FieldCount {
                expression: expression.to_owned(),
                count: fields.len(),
            });
        }
        let parser = |i: usize, field, min, max, names, name_base| FieldParser {
            expression,
            field,
            value: fields.get(i).copied().unwrap_or("*"),
            min,
            max,
            names,
            name_base,
        };
        let plain = |p: FieldParser<'_>| -> Result<Set, CronError> {
            if p.value == "?" {
                return Err(p.err("'?' is only allowed in day-of-month or day-of-week"));
            }
            p.set()
        };
        let seconds = plain(parser(0, "seconds", 0, 59, &[], 0))?;
        let minutes = plain(parser(1, "minutes", 0, 59, &[], 0))?;
        let hours = plain(parser(2, "hours", 0, 23, &[], 0))?;
        let dom_parser = parser(3, "day-of-month", 1, 31, &[], 0);
        let months = plain(parser(4, "month", 1, 12, &MONTHS, 1))?;
        let dow_parser = parser(5, "day-of-week", 1, 7, &DAYS, 1);
        let years = plain(parser(6, "year", MIN_YEAR, MAX_YEAR, &[], 0))?;

        let dom_q = dom_parser.value == "?";
        let dow_q = dow_parser.value == "?";
        if dom_q && dow_q {
            return Err(CronError::DayFields {
                expression: expression.to_owned(),
                reason: "'?' may be used in day-of-month or day-of-week, not both",
            });
        }
        if !dom_q && !dow_q {
            return Err(CronError::DayFields {
                expression: expression.to_owned(),
                reason: "one of day-of-month and day-of-week must be '?' (Quartz does not support both)",
            });
        }
        let day_of_month = if dom_q {
            DayOfMonth::Any
        } else {
            parse_dom(&dom_parser)?
        };
        let day_of_week = if dow_q {
            DayOfWeek::Any
        } else {
            parse_dow(&dow_parser)?
        };
        Ok(Self {
            source: expression.to_owned(),
            seconds,
            minutes,
            hours,
            day_of_month,
            months,
            day_of_week,
            years,
            time_zone,
        })
    }

    /// The expression as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The time zone schedules are computed in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The same schedule in another time zone.
    pub fn with_time_zone(mut self, time_zone: TimeZone) -> Self {
        self.time_zone = time_zone;
        self
    }

    /// The first fire time strictly after `after`, in the expression's time zone; `None` when
    /// there is none before the end of 2099.
    pub fn next_after(&self, after: &ZonedDateTime) -> Option<ZonedDateTime> {
        let after_ts: Timestamp = after.timestamp();
        let local = after_ts
            .to_zoned_datetime(self.time_zone.clone())
            .datetime();
        let mut cursor = Cursor::from(local);
        cursor.add_second();
        // A few rounds cover fold/gap candidates that land at or before `after`.
        for _ in 0..48 {
            let civil = self.next_civil(cursor)?;
            let amb = self.time_zone.to_ambiguous_zoned_datetime(civil);
            let candidates: Vec<ZonedDateTime> = match amb.offset() {
                AmbiguousOffset::Fold { .. } => [amb.clone().earlier().ok(), amb.later().ok()]
                    .into_iter()
                    .flatten()
                    .collect(),
                _ => amb.compatible().ok().into_iter().collect(),
            };
            if let Some(z) = candidates.into_iter().find(|z| z.timestamp() > after_ts) {
                return Some(z);
            }
            cursor = Cursor::from(civil);
            cursor.add_second();
        }
        None
    }

    fn next_civil(&self, mut c: Cursor) -> Option<DateTime> {
        loop {
            if c.year > MAX_YEAR {
                return None;
            }
            match self.years.next_at_or_after(c.year) {
                None => return None,
                Some(y) if y != c.year => c.reset_to_year(y),
                _ => {}
            }
            match self.months.next_at_or_after(c.month) {
                None => {
                    c.reset_to_year(c.year + 1);
                    continue;
                }
                Some(m) if m != c.month => c.reset_to_month(m),
                _ => {}
            }
            let dim = days_in_month(c.year, c.month)?;
            match (c.day..=dim).find(|&d| self.day_matches(c.year, c.month, d, dim)) {
                None => {
                    c.next_month();
                    continue;
                }
                Some(d) if d != c.day => c.reset_to_day(d),
                _ => {}
            }
            match self.hours.next_at_or_after(c.hour) {
                None => {
                    c.next_day(dim);
                    continue;
                }
                Some(h) if h != c.hour => c.reset_to_hour(h),
                _ => {}
            }
            match self.minutes.next_at_or_after(c.minute) {
                None => {
                    c.next_hour(dim);
                    continue;
                }
                Some(m) if m != c.minute => c.reset_to_minute(m),
                _ => {}
            }
            match self.seconds.next_at_or_after(c.second) {
                None => {
                    c.next_minute(dim);
                    continue;
                }
                Some(s) => c.second = s,
            }
            return c.to_datetime();
        }
    }

    fn day_matches(&self, year: u32, month: u32, day: u32, dim: u32) -> bool {
        let weekday = || weekday(year, month, day).unwrap_or(0);
        match (&self.day_of_month, &self.day_of_week) {
            (DayOfMonth::Any, DayOfWeek::Any) => true,
            (DayOfMonth::Values(s), _) => s.contains(day),
            (DayOfMonth::Last(offset), _) => dim.checked_sub(*offset) == Some(day),
            (DayOfMonth::LastWeekday, _) => {
                let last = match weekday_of(year, month, dim) {
                    Some(7) => dim - 1,
                    Some(1) => dim - 2,
                    _ => dim,
                };
                day == last
            }
            (DayOfMonth::NearestWeekday(n), _) => {
                *n <= dim && nearest_weekday(year, month, *n, dim) == Some(day)
            }
            (DayOfMonth::Any, DayOfWeek::Values(s)) => s.contains(weekday()),
            (DayOfMonth::Any, DayOfWeek::Last(d)) => weekday() == *d && day + 7 > dim,
            (DayOfMonth::Any, DayOfWeek::Nth(d, k)) => weekday() == *d && (day - 1) / 7 + 1 == *k,
        }
    }
}

fn parse_dom(p: &FieldParser<'_>) -> Result<DayOfMonth, CronError> {
    let v = p.value;
    if v == "L" {
        return Ok(DayOfMonth::Last(0));
    }
    if v == "LW" {
        return Ok(DayOfMonth::LastWeekday);
    }
    if let Some(n) = v.strip_prefix("L-") {
        let n: u32 = n
            .parse()
            .map_err(|_| p.err("expected L-<days before the last day>"))?;
        if n > 30 {
            return Err(p.err("offset from the last day must be at most 30"));
        }
        return Ok(DayOfMonth::Last(n));
    }
    if let Some(n) = v.strip_suffix('W') {
        return Ok(DayOfMonth::NearestWeekday(p.number(n)?));
    }
    if v.contains(['L', 'W', '#']) {
        return Err(p.err("L and W must stand alone (L, L-n, LW or nW)"));
    }
    Ok(DayOfMonth::Values(p.set()?))
}

fn parse_dow(p: &FieldParser<'_>) -> Result<DayOfWeek, CronError> {
    let v = p.value;
    if v == "L" {
        let mut s = Set::new(1, 7);
        s.insert(7);
        return Ok(DayOfWeek::Values(s));
    }
    if let Some(d) = v.strip_suffix('L') {
        return Ok(DayOfWeek::Last(p.number(d)?));
    }
    if let Some((d, k)) = v.split_once('#') {
        let day = p.number(d)?;
        let k: u32 = k
            .parse()
            .map_err(|_| p.err(format!("{k:?} after '#' is not a number")))?;
        if !(1..=5).contains(&k) {
            return Err(p.err("the number after '#' must be 1-5"));
        }
        return Ok(DayOfWeek::Nth(day, k));
    }
    Ok(DayOfWeek::Values(p.set()?))
}

fn days_in_month(year: u32, month: u32) -> Option<u32> {
    let d = Date::new(i16::try_from(year).ok()?, i8::try_from(month).ok()?, 1).ok()?;
    Some(d.days_in_month() as u32)
}

/// Quartz numbering: 1 = Sunday ... 7 = Saturday.
fn weekday_of(year: u32, month: u32, day: u32) -> Option<u32> {
    let d = Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    Some(d.weekday().to_sunday_one_offset() as u32)
}

fn weekday(year: u32, month: u32, day: u32) -> Option<u32> {
    weekday_of(year, month, day)
}

fn nearest_weekday(year: u32, month: u32, n: u32, dim: u32) -> Option<u32> {
    Some(match weekday_of(year, month, n)? {
        7 if n == 1 => 3,
        7 => n - 1,
        1 if n == dim => n - 2,
        1 => n + 1,
        _ => n,
    })
}

/// A civil time being searched, allowed to hold out-of-range values until normalised.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl From<DateTime> for Cursor {
    fn from(dt: DateTime) -> Self {
        let n = |v: i8| u32::try_from(v).unwrap_or(0);
        Self {
            year: u32::try_from(dt.year()).unwrap_or(0),
            month: n(dt.month()),
            day: n(dt.day()),
            hour: n(dt.hour()),
            minute: n(dt.minute()),
            second: n(dt.second()),
        }
    }
}

impl Cursor {
    fn reset_to_year(&mut self, year: u32) {
        *self = Cursor {
            year,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        };
    }
    fn reset_to_month(&mut self, month: u32) {
        *self = Cursor {
            month,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            ..*self
        };
    }
    fn reset_to_day(&mut self, day: u32) {
        *self = Cursor {
            day,
            hour: 0,
            minute: 0,
            second: 0,
            ..*self
        };
    }
    fn reset_to_hour(&mut self, hour: u32) {
        *self = Cursor {
            hour,
            minute: 0,
            second: 0,
            ..*self
        };
    }
    fn reset_to_minute(&mut self, minute: u32) {
        self.minute = minute;
        self.second = 0;
    }
    fn next_month(&mut self) {
        if self.month >= 12 {
            self.reset_to_year(self.year + 1);
        } else {
            self.reset_to_month(self.month + 1);
        }
    }
    fn next_day(&mut self, dim: u32) {
        if self.day >= dim {
            self.next_month();
        } else {
            self.reset_to_day(self.day + 1);
        }
    }
    fn next_hour(&mut self, dim: u32) {
        if self.hour >= 23 {
            self.next_day(dim);
        } else {
            self.reset_to_hour(self.hour + 1);
        }
    }
    fn next_minute(&mut self, dim: u32) {
        if self.minute >= 59 {
            self.next_hour(dim);
        } else {
            self.reset_to_minute(self.minute + 1);
        }
    }
    fn add_second(&mut self) {
        if self.second >= 59 {
            let dim = days_in_month(self.year, self.month).unwrap_or(31);
            self.next_minute(dim);
        } else {
            self.second += 1;
        }
    }
    fn to_datetime(self) -> Option<DateTime> {
        let date = Date::new(
            i16::try_from(self.year).ok()?,
            i8::try_from(self.month).ok()?,
            i8::try_from(self.day).ok()?,
        )
        .ok()?;
        let t = |v: u32| i8::try_from(v).ok();
        Some(date.at(t(self.hour)?, t(self.minute)?, t(self.second)?, 0))
    }
}

#[cfg(test)]
mod tests;
