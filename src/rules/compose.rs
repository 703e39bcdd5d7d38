//! Texts of the traces put together without `format!`: the parts' lengths are summed first, so
//! the text is allocated once at its size, and numbers and dates are written digit by digit.
//! `core::fmt` and the growing of strings were half of an evaluation's instructions.
//!
//! `compose!("since ", date)` gives the same text as `format!("since {date}")` for the kinds of
//! part below (each part is evaluated once).

use chrono::NaiveDate;

/// A part of a composed text.
pub trait Piece {
    /// The part's length in bytes (exact: the text is allocated once).
    fn byte_len(&self) -> usize;
    fn push_to(&self, out: &mut String);
}

impl Piece for str {
    fn byte_len(&self) -> usize {
        str::len(self)
    }
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn byte_len(&self) -> usize {
        T::byte_len(self)
    }
    fn push_to(&self, out: &mut String) {
        T::push_to(self, out);
    }
}

impl Piece for String {
    fn byte_len(&self) -> usize {
        self.as_str().len()
    }
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for std::borrow::Cow<'_, str> {
    fn byte_len(&self) -> usize {
        self.as_ref().len()
    }
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

/// The decimal digits of `n`, as `Display` writes them.
fn digits(mut n: u64) -> usize {
    let mut count = 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

fn push_decimal(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut rest = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &buf[at..] {
        out.push(char::from(digit));
    }
}

macro_rules! unsigned_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn byte_len(&self) -> usize {
                digits(u64::from(*self))
            }
            fn push_to(&self, out: &mut String) {
                push_decimal(out, u64::from(*self));
            }
        }
    )*};
}
unsigned_piece!(u8, u16, u32, u64);

impl Piece for i64 {
    fn byte_len(&self) -> usize {
        digits(self.unsigned_abs()) + usize::from(*self < 0)
    }
    fn push_to(&self, out: &mut String) {
        if *self < 0 {
            out.push('-');
        }
        push_decimal(out, self.unsigned_abs());
    }
}

/// A date as `YYYY-MM-DD` (its `Display`).
impl Piece for NaiveDate {
    fn byte_len(&self) -> usize {
        use chrono::Datelike;
        if (0..=9999).contains(&self.year()) {
            10
        } else {
            self.to_string().len()
        }
    }
    fn push_to(&self, out: &mut String) {
        super::dates::push_ymd(out, *self);
    }
}

/// Nothing for `None` (as `map(to_string).unwrap_or_default()` gives).
impl<T: Piece> Piece for Option<T> {
    fn byte_len(&self) -> usize {
        self.as_ref().map_or(0, Piece::byte_len)
    }
    fn push_to(&self, out: &mut String) {
        if let Some(part) = self {
            part.push_to(out);
        }
    }
}

/// Ids as their number, enums as their name: what their `Display` writes.
macro_rules! id_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn byte_len(&self) -> usize {
                self.get().byte_len()
            }
            fn push_to(&self, out: &mut String) {
                self.get().push_to(out);
            }
        }
    )*};
}
id_piece!(
    crate::domain::CertificateId,
    crate::domain::EnrollmentId,
    crate::domain::EmploymentId
);

macro_rules! enum_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn byte_len(&self) -> usize {
                self.as_str().len()
            }
            fn push_to(&self, out: &mut String) {
                out.push_str(self.as_str());
            }
        }
    )*};
}
enum_piece!(
    crate::domain::CertificateStatus,
    crate::domain::EnrollmentStatus,
    crate::domain::SkillLevel
);

/// The parts one after the other, allocated once.
pub fn join(parts: &[&dyn Piece]) -> String {
    let size = parts.iter().map(|p| p.byte_len()).sum();
    let mut out = String::with_capacity(size);
    for part in parts {
        part.push_to(&mut out);
    }
    out
}

/// `compose!(a, b, …)`: the parts (strings, unsigned numbers, `i64`, dates) one after the other.
#[macro_export]
macro_rules! compose {
    ($($part:expr),+ $(,)?) => {
        $crate::rules::compose::join(&[$(&$part as &dyn $crate::rules::compose::Piece),+])
    };
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    #[test]
    fn the_same_text_as_format_at_its_exact_size() {
        let day = NaiveDate::from_ymd_opt(2027, 6, 30).unwrap();
        let owned = String::from("高级工");
        for (n, m) in [
            (0u64, 0i64),
            (7, -7),
            (10, 10),
            (999, -1000),
            (u64::MAX, i64::MIN),
        ] {
            let text = crate::compose!(
                "还需",
                owned,
                "约",
                n,
                "天；",
                m,
                " on ",
                day,
                '.'.to_string()
            );
            let expected = format!("还需{owned}约{n}天；{m} on {day}.");
            assert_eq!(text, expected);
            assert_eq!(
                text.capacity(),
                expected.len(),
                "allocated once, at its size"
            );
        }
    }

    /// Each kind of part says its length exactly: the text is never reallocated.
    #[test]
    fn every_kind_of_part_sized_exactly() {
        use crate::domain::{CertificateId, CertificateStatus, EnrollmentStatus, SkillLevel};
        let exact = |text: String, expected: &str| {
            assert_eq!(text, expected);
            assert_eq!(text.capacity(), expected.len(), "{expected}");
        };
        let far = NaiveDate::from_ymd_opt(12345, 1, 2).unwrap();
        exact(crate::compose!("from ", far), &format!("from {far}"));
        let small: (u8, u16, u32) = (9, 65535, 4_000_000_000);
        exact(
            crate::compose!(small.0, " ", small.1, " ", small.2),
            "9 65535 4000000000",
        );
        let borrowed: std::borrow::Cow<'static, str> = "技师".into();
        let owned: std::borrow::Cow<'static, str> = String::from("高级技师").into();
        exact(crate::compose!(borrowed, "/", owned), "技师/高级技师");
        // A short part after a long one: a wrong length would grow the text past its size.
        let short: std::borrow::Cow<'static, str> = "级".into();
        exact(crate::compose!("abcdefghij", short), "abcdefghij级");
        let (some, none) = (Some(far), None::<NaiveDate>);
        exact(
            crate::compose!("[", some, "|", none, "]"),
            &format!("[{far}|]"),
        );
        exact(
            crate::compose!(
                "#",
                CertificateId(42),
                " ",
                CertificateStatus::Verified,
                " ",
                EnrollmentStatus::Graduated,
                " ",
                SkillLevel::SeniorWorker
            ),
            "#42 verified graduated senior_worker",
        );
    }
}
