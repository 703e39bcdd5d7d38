//! A progress body as it is stored: its JSON without the opening brace, deflated once when it is
//! computed. A client that accepts gzip is sent the stored bytes themselves behind a few bytes of
//! framing — a gzip header, the answer's date in an uncompressed deflate block, and the trailer —
//! so an answer from a snapshot is neither decompressed nor compressed per request; any other
//! client is sent the inflated JSON. Stored compressed, a body also stays within one database
//! page (SQLite) or inline in its row (PostgreSQL), where its JSON of several kilobytes did not.
//!
//! Layout: CRC-32 of the JSON without its brace (4 bytes, little-endian), its length (4 bytes,
//! little-endian), then the raw deflate stream (RFC 1951) of it, its last block final.

use std::io::{Read, Write};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;

/// Bytes before the deflate stream: the CRC-32 and the length.
const HEADER: usize = 8;
/// zlib's level 6: a body is written once per change of the learner's records and read many
/// times, so the smaller form is worth the few extra microseconds of its writing.
const LEVEL: u32 = 6;
/// The gzip member header (RFC 1952): deflate, no flags, no time, unknown system.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("a progress body is not a JSON object")]
    NotAnObject,
    #[error("a progress body over 4 GiB")]
    TooLong,
    #[error("a stored progress body is damaged: {0}")]
    Damaged(&'static str),
    #[error("deflate: {0}")]
    Io(#[from] std::io::Error),
}

/// Packs the JSON of an object for storing.
pub fn pack(json: &str) -> Result<Vec<u8>, PackError> {
    let fields = json.strip_prefix('{').ok_or(PackError::NotAnObject)?;
    let length = u32::try_from(fields.len()).map_err(|_| PackError::TooLong)?;
    let mut packed = Vec::with_capacity(HEADER + fields.len() / 3 + 64);
    packed.extend_from_slice(&crc32fast::hash(fields.as_bytes()).to_le_bytes());
    packed.extend_from_slice(&length.to_le_bytes());
    let mut encoder = DeflateEncoder::new(packed, Compression::new(LEVEL));
    encoder.write_all(fields.as_bytes())?;
    Ok(encoder.finish()?)
}

/// The CRC-32 and the length of the packed JSON (without its brace), and its deflate stream.
fn parts(packed: &[u8]) -> Result<(u32, u32, &[u8]), PackError> {
    if packed.len() < HEADER {
        return Err(PackError::Damaged("shorter than its header"));
    }
    let (header, deflated) = packed.split_at(HEADER);
    let word = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    Ok((word(0), word(4), deflated))
}

/// The JSON object `prefix` + the packed fields, inflated and checked against its CRC-32.
/// `prefix` opens the object and, when not just `{`, ends with a comma.
pub fn unpack_with(prefix: &str, packed: &[u8]) -> Result<String, PackError> {
    let (crc, length, deflated) = parts(packed)?;
    let mut json = String::with_capacity(prefix.len() + length as usize);
    json.push_str(prefix);
    DeflateDecoder::new(deflated).read_to_string(&mut json)?;
    let fields = &json.as_bytes()[prefix.len()..];
    if fields.len() != length as usize || crc32fast::hash(fields) != crc {
        return Err(PackError::Damaged("its length or checksum does not match"));
    }
    Ok(json)
}

/// The JSON object packed, inflated.
pub fn unpack(packed: &[u8]) -> Result<String, PackError> {
    unpack_with("{", packed)
}

/// One gzip member (RFC 1952) whose content is `prefix` followed by the packed fields: `prefix`
/// in a stored deflate block, then the packed stream as it is. A stored block ends on a byte
/// boundary, where the packed stream's first block begins; the trailer's CRC-32 is that of the
/// prefix combined with the stored one.
pub fn gzip_with(prefix: &str, packed: &[u8]) -> Result<Vec<u8>, PackError> {
    let (crc, length, deflated) = parts(packed)?;
    let prefix = prefix.as_bytes();
    let prefix_length = u16::try_from(prefix.len()).map_err(|_| PackError::TooLong)?;
    let mut gzip = Vec::with_capacity(GZIP_HEADER.len() + 5 + prefix.len() + deflated.len() + 8);
    gzip.extend_from_slice(&GZIP_HEADER);
    // A stored block, not the last (BFINAL 0, BTYPE 00, padded to the byte), LEN and its
    // complement NLEN, then the bytes.
    gzip.push(0);
    gzip.extend_from_slice(&prefix_length.to_le_bytes());
    gzip.extend_from_slice(&(!prefix_length).to_le_bytes());
    gzip.extend_from_slice(prefix);
    gzip.extend_from_slice(deflated);
    let mut whole = crc32fast::Hasher::new();
    whole.update(prefix);
    whole.combine(&crc32fast::Hasher::new_with_initial_len(
        crc,
        u64::from(length),
    ));
    gzip.extend_from_slice(&whole.finalize().to_le_bytes());
    // ISIZE: the content's length modulo 2^32.
    let size = u32::from(prefix_length).wrapping_add(length);
    gzip.extend_from_slice(&size.to_le_bytes());
    Ok(gzip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;

    const BODY: &str = r#"{"learner_id":7,"learner_name":"王小明","milestones":[{"key":"a","text":"取得高级工两年后可申报技师"},{"key":"b","text":"取得高级工两年后可申报技师"}]}"#;

    #[test]
    fn a_packed_body_unpacks_to_itself_and_is_smaller() {
        let long = BODY.replace("]}", &",{\"key\":\"c\"}".repeat(200)) + "]}";
        for json in [BODY, "{}", long.as_str()] {
            let packed = pack(json).unwrap();
            assert_eq!(unpack(&packed).unwrap(), json);
        }
        assert!(pack(&long).unwrap().len() * 5 < long.len());
    }

    #[test]
    fn the_gzip_member_is_the_prefix_then_the_body() {
        let packed = pack(BODY).unwrap();
        let prefix = r#"{"as_of":"2026-12-04","#;
        let gzip = gzip_with(prefix, &packed).unwrap();
        let mut sent = String::new();
        GzDecoder::new(gzip.as_slice())
            .read_to_string(&mut sent)
            .unwrap();
        assert_eq!(sent, format!("{prefix}{}", &BODY[1..]));
        assert_eq!(unpack_with(prefix, &packed).unwrap(), sent);
        // The trailer: the CRC-32 and the length of everything sent (the decoder checks them too).
        let trailer = &gzip[gzip.len() - 8..];
        assert_eq!(trailer[..4], crc32fast::hash(sent.as_bytes()).to_le_bytes());
        assert_eq!(trailer[4..], (sent.len() as u32).to_le_bytes());
    }

    #[test]
    fn a_damaged_body_is_an_error_not_a_wrong_answer() {
        assert!(matches!(pack("[1]"), Err(PackError::NotAnObject)));
        let packed = pack(BODY).unwrap();
        assert!(unpack(&packed[..5]).is_err());
        let mut flipped = packed.clone();
        flipped[0] ^= 1; // the checksum
        assert!(matches!(unpack(&flipped), Err(PackError::Damaged(_))));
        let mut longer = packed.clone();
        longer[4] ^= 1; // the length
        assert!(matches!(unpack(&longer), Err(PackError::Damaged(_))));
        assert!(unpack(&packed[..packed.len() - 4]).is_err());
    }
}
