//! Writes a cohort enrollment CSV of N learners to stdout, in the layout a college exports:
//! `cargo run --example cohort_csv -- 100000 > cohort.csv` (add `--gbk` for GBK).

use std::io::Write;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// A valid identity number for learner `n` (1000 per birthday from 1990-01-01).
fn identity_number(n: u64) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default()
        + chrono::Days::new(n / 1000);
    let first17 = format!("310104{}{:03}", birth.format("%Y%m%d"), n % 1000);
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let rows: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let gbk = args.iter().any(|a| a == "--gbk");
    let mut text = String::from("姓名,身份证号,邮箱,入学日期,毕业日期,班级类型,户籍\n");
    for i in 0..rows {
        text.push_str(&format!(
            "学员{i},{},s{i}@college.example,2024-09-01,2027-06-30,技师班,外省市\n",
            identity_number(i)
        ));
    }
    let bytes = if gbk {
        encoding_rs::GBK.encode(&text).0.into_owned()
    } else {
        text.into_bytes()
    };
    std::io::stdout().lock().write_all(&bytes)
}
