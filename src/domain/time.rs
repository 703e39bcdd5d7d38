use chrono::{FixedOffset, NaiveDate, Utc};

/// Asia/Shanghai: UTC+8 all year (China keeps no daylight saving time), so a fixed offset is
/// exact and needs no time-zone database.
pub const SHANGHAI: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// Today's date in Shanghai: the default evaluation date and the bound of "not in the future".
pub fn today_in_shanghai() -> NaiveDate {
    Utc::now().with_timezone(&SHANGHAI).date_naive()
}
