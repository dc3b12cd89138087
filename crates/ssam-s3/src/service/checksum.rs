//! Checksums: what a request declared (`x-amz-checksum-*`), verifying a received body
//! against it and Content-MD5, the composite checksum of a multipart object, and the
//! checksum headers of answers.

use super::*;

/// The checksum a request declared: algorithm and, when sent in a header, its value.
pub(super) fn declared_checksum(
    algorithm: Option<&ChecksumAlgorithm>,
    crc32: Option<&String>,
    crc32c: Option<&String>,
    crc64: Option<&String>,
    sha1: Option<&String>,
    sha256: Option<&String>,
) -> (Option<String>, Option<String>) {
    for (name, v) in [
        ("CRC32", crc32),
        ("CRC32C", crc32c),
        ("CRC64NVME", crc64),
        ("SHA1", sha1),
        ("SHA256", sha256),
    ] {
        if let Some(v) = v {
            return (Some(name.to_owned()), Some(v.clone()));
        }
    }
    (algorithm.map(|a| a.as_str().to_ascii_uppercase()), None)
}

/// Checks Content-MD5 and a declared checksum against what was received.
pub(super) fn verify_body(
    rec: &Received,
    content_md5: Option<&str>,
    algo: Option<&str>,
    expected: Option<&str>,
    trailing: Option<&s3s::TrailingHeaders>,
) -> S3Result<Option<StoredChecksum>> {
    if let Some(md5) = content_md5 {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(md5.trim()) else {
            return Err(s3_error!(
                InvalidDigest,
                "The Content-MD5 you specified was invalid."
            ));
        };
        if bytes.len() != 16 {
            return Err(s3_error!(
                InvalidDigest,
                "The Content-MD5 you specified was invalid."
            ));
        }
        if bytes != rec.md5 {
            return Err(s3_error!(
                BadDigest,
                "The Content-MD5 you specified did not match what we received."
            ));
        }
    }
    let Some(algo) = algo else { return Ok(None) };
    let Some(computed) = rec
        .checksum
        .as_ref()
        .and_then(|c| body::checksum_value(c, algo))
    else {
        return Ok(None);
    };
    // A checksum sent as a trailer (aws-chunked uploads) arrives after the body.
    let from_trailer = trailing.and_then(|t| {
        t.read(|h| {
            h.get(format!("x-amz-checksum-{}", algo.to_ascii_lowercase()))
                .and_then(|v| v.to_str().ok().map(str::to_owned))
        })
        .flatten()
    });
    if let Some(exp) = expected.map(str::to_owned).or(from_trailer) {
        if exp != computed {
            return Err(s3_error!(
                BadDigest,
                "The {} you specified did not match the calculated checksum.",
                algo
            ));
        }
    }
    Ok(Some(StoredChecksum {
        algorithm: algo.to_owned(),
        value: computed.to_owned(),
        kind: "FULL_OBJECT".into(),
    }))
}

pub(super) fn checksum_fields(c: Option<&StoredChecksum>) -> Checksum {
    let mut out = Checksum::default();
    if let Some(c) = c {
        let v = Some(c.value.clone());
        match c.algorithm.as_str() {
            "CRC32" => out.checksum_crc32 = v,
            "CRC32C" => out.checksum_crc32c = v,
            "CRC64NVME" => out.checksum_crc64nvme = v,
            "SHA1" => out.checksum_sha1 = v,
            "SHA256" => out.checksum_sha256 = v,
            _ => {}
        }
        out.checksum_type = Some(ChecksumType::from(c.kind.clone()));
    }
    out
}

/// The composite checksum of a multipart object (checksum of the part checksums, `-N`).
pub(super) fn multipart_checksum(up: &Upload, parts: &[PartInfo]) -> Option<StoredChecksum> {
    let algo = up.checksum_algorithm.as_ref()?;
    if up.checksum_type.as_deref() == Some("FULL_OBJECT") {
        return None;
    }
    let mut h = body::checksum_hasher(algo)?;
    for p in parts {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(p.checksum.as_ref()?)
            .ok()?;
        h.update(&raw);
    }
    let c = h.finalize();
    let v = body::checksum_value(&c, algo)?;
    Some(StoredChecksum {
        algorithm: algo.clone(),
        value: format!("{v}-{}", parts.len()),
        kind: "COMPOSITE".into(),
    })
}

/// The checksum headers of a GET/HEAD: a part's own checksum for `partNumber` reads of a
/// multipart object (sent unasked, as S3 does), else the object's when `ChecksumMode=ENABLED`.
pub(super) fn response_checksum(v: &Version, part: Option<i32>, enabled: bool) -> Checksum {
    if let (Some(n), Some(c)) = (part, v.checksum.as_ref()) {
        let idx = usize::try_from(n).ok().and_then(|n| n.checked_sub(1));
        if let Some(value) = idx.and_then(|i| v.part_checksums.get(i)) {
            return checksum_fields(Some(&StoredChecksum {
                algorithm: c.algorithm.clone(),
                value: value.clone(),
                kind: c.kind.clone(),
            }));
        }
    }
    if enabled {
        checksum_fields(v.checksum.as_ref())
    } else {
        Checksum::default()
    }
}
