//! The store's own tests: journal replay, torn tails, the zero tail, inline bodies,
//! compaction, and what an overwrite frees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;

use super::journal::{apply, crc32, Record};
use super::{valid_bucket_name, BucketConfig, ObjectMeta, Store, Version};

fn version(id: &str, blob: &str) -> Version {
    Version {
        id: id.into(),
        blob: Some(blob.into()),
        delete_marker: false,
        size: 1,
        etag: "x".into(),
        modified_ms: 0,
        meta: ObjectMeta::default(),
        tags: vec![],
        checksum: None,
        parts: vec![],
        part_checksums: vec![],
        inline_at: None,
    }
}

/// A PUT of `body` stored inline in the journal.
fn inline_put(key: &str, body: impl AsRef<[u8]>) -> Record {
    let body = bytes::Bytes::copy_from_slice(body.as_ref());
    let mut v = version("null", "unused");
    v.blob = None;
    v.size = body.len() as u64;
    Record::Put {
        key: key.into(),
        v: Box::new(v),
        in_place: false,
        data_follows: true,
        crc: None,
        data: Some(body),
    }
}

#[test]
fn journal_replays_and_cuts_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.create_bucket("bkt", BucketConfig::default()).unwrap();
        let mut st = b.lock().unwrap();
        b.commit(
            &mut st,
            vec![Record::Put {
                key: "a/../../x".into(),
                v: Box::new(version("null", "b1")),
                in_place: false,
                data_follows: false,
                crc: None,
                data: None,
            }],
        )
        .unwrap();
        b.commit(
            &mut st,
            vec![Record::Put {
                key: "k".into(),
                v: Box::new(version("null", "b2")),
                in_place: false,
                data_follows: false,
                crc: None,
                data: None,
            }],
        )
        .unwrap();
    }
    let journal = dir.path().join("buckets/bkt/journal");
    let mut f = OpenOptions::new().append(true).open(&journal).unwrap();
    f.write_all(b"{\"op\":\"put\",\"key\":\"torn").unwrap();
    drop(f);
    let store = Store::open(dir.path(), true).unwrap();
    let b = store.bucket("bkt").unwrap();
    let st = b.lock().unwrap();
    assert_eq!(
        st.objects.keys().collect::<Vec<_>>(),
        vec!["a/../../x", "k"]
    );
    assert!(fs::read_to_string(&journal).unwrap().ends_with("}\n"));
}

#[test]
fn inline_bodies_survive_replay_compaction_and_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.create_bucket("bkt", BucketConfig::default()).unwrap();
        let mut st = b.lock().unwrap();
        b.commit(
            &mut st,
            vec![
                inline_put("a", b"first\nwith newline"),
                inline_put("b", b""),
            ],
        )
        .unwrap();
        b.commit(&mut st, vec![inline_put("a", b"second")]).unwrap();
        let v = st.objects["a"][0].clone();
        assert_eq!(&b.read_inline(&st, &v).unwrap()[..], b"second");
    }
    // A torn inline record (line written, body cut short) is dropped at the next start.
    let journal = dir.path().join("buckets/bkt/journal");
    let mut f = OpenOptions::new().append(true).open(&journal).unwrap();
    f.write_all(b"{\"op\":\"put\",\"key\":\"c\",\"v\":{\"id\":\"null\",\"size\":100,\"etag\":\"x\",\"modified_ms\":0},\"data_follows\":true}\nshort").unwrap();
    drop(f);
    let store = Store::open(dir.path(), true).unwrap();
    let b = store.bucket("bkt").unwrap();
    let mut st = b.lock().unwrap();
    assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b"]);
    b.compact(&mut st).unwrap();
    for (k, want) in [("a", &b"second"[..]), ("b", &b""[..])] {
        let v = st.objects[k][0].clone();
        assert_eq!(&b.read_inline(&st, &v).unwrap()[..], want);
    }
    drop(st);
    drop(store);
    let store = Store::open(dir.path(), true).unwrap();
    let b = store.bucket("bkt").unwrap();
    let st = b.lock().unwrap();
    let v = st.objects["a"][0].clone();
    assert_eq!(&b.read_inline(&st, &v).unwrap()[..], b"second");
}

/// A durable journal is written over zeros kept past its end; after a crash those
/// writes may be on disk in part, in any order. Replay keeps what is whole (its CRC
/// matches), drops a body with a zeroed block or a line with zeros in it, and cuts the
/// file back to its last good record.
#[test]
fn writes_over_the_zero_tail_are_kept_whole_or_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("buckets/bkt/journal");
    {
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.create_bucket("bkt", BucketConfig::default()).unwrap();
        let mut st = b.lock().unwrap();
        b.commit(&mut st, vec![inline_put("a", b"alpha")]).unwrap();
        assert_eq!(
            fs::metadata(&journal).unwrap().len(),
            st.journal_len + 64 * 1024,
            "the durable journal keeps room past its end"
        );
    }
    let logical = |bytes: &[u8]| bytes.iter().position(|&b| b == 0).unwrap() as u64;
    let record = |key: &str, body: &[u8]| {
        let line = format!(
            "{{\"op\":\"put\",\"key\":\"{key}\",\"v\":{{\"id\":\"null\",\"size\":{},\"etag\":\"x\",\"modified_ms\":0}},\"data_follows\":true,\"crc\":{}}}\n",
            body.len(),
            crc32(body)
        );
        [line.as_bytes(), body, b"\n"].concat()
    };
    use std::os::unix::fs::FileExt;
    // A whole record written over the zeros (its fsync never answered, or did): kept.
    let body = vec![7u8; 9000];
    let end = logical(&fs::read(&journal).unwrap());
    let f = OpenOptions::new().write(true).open(&journal).unwrap();
    f.write_all_at(&record("b", &body), end).unwrap();
    drop(f);
    {
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.bucket("bkt").unwrap();
        let st = b.lock().unwrap();
        assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b"]);
        let v = st.objects["b"][0].clone();
        assert_eq!(&b.read_inline(&st, &v).unwrap()[..], &body[..]);
        assert_eq!(fs::metadata(&journal).unwrap().len(), st.journal_len);
    }
    // A record whose body's middle block never reached the disk: CRC mismatch, dropped
    // with what follows.
    let good_len = fs::metadata(&journal).unwrap().len();
    let mut torn = record("c", &body);
    let body_at = torn.len() - 1 - body.len();
    torn[body_at + 4096..body_at + 8192].fill(0);
    torn.extend(record("d", b"after"));
    let f = OpenOptions::new().write(true).open(&journal).unwrap();
    f.write_all_at(&torn, good_len).unwrap();
    drop(f);
    {
        let store = Store::open(dir.path(), true).unwrap();
        let b = store.bucket("bkt").unwrap();
        let st = b.lock().unwrap();
        assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(fs::metadata(&journal).unwrap().len(), good_len);
    }
    // A line with zeros inside (its first block lost): dropped.
    let mut torn = record("e", b"body");
    torn[..8].fill(0);
    let f = OpenOptions::new().write(true).open(&journal).unwrap();
    f.write_all_at(&torn, good_len).unwrap();
    drop(f);
    let store = Store::open(dir.path(), true).unwrap();
    let b = store.bucket("bkt").unwrap();
    let mut st = b.lock().unwrap();
    assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b"]);
    // And the journal goes on from there.
    b.commit(&mut st, vec![inline_put("f", b"fine")]).unwrap();
    drop(st);
    drop(store);
    let store = Store::open(dir.path(), true).unwrap();
    let b = store.bucket("bkt").unwrap();
    let st = b.lock().unwrap();
    assert_eq!(st.objects.keys().collect::<Vec<_>>(), vec!["a", "b", "f"]);
    let v = st.objects["f"][0].clone();
    assert_eq!(&b.read_inline(&st, &v).unwrap()[..], b"fine");
}

#[test]
fn overwrite_frees_the_old_blob() {
    let mut m = BTreeMap::new();
    apply(
        &mut m,
        Record::Put {
            key: "k".into(),
            v: Box::new(version("null", "b1")),
            in_place: false,
            data_follows: false,
            crc: None,
            data: None,
        },
    );
    let (freed, _, _) = apply(
        &mut m,
        Record::Put {
            key: "k".into(),
            v: Box::new(version("null", "b2")),
            in_place: false,
            data_follows: false,
            crc: None,
            data: None,
        },
    );
    assert_eq!(freed, vec!["b1".to_string()]);
    let (freed, _, _) = apply(
        &mut m,
        Record::Del {
            key: "k".into(),
            id: "null".into(),
        },
    );
    assert_eq!(freed, vec!["b2".to_string()]);
    assert!(m.is_empty());
}

#[test]
fn bucket_names_cannot_be_paths() {
    for bad in ["..", "../etc", "a/b", "ab", "A-B-C", "x..y"] {
        assert!(!valid_bucket_name(bad), "{bad}");
    }
    assert!(valid_bucket_name("help-me-sam"));
}

/// Version ids are typed in memory but keep the journal's string form, so data
/// directories written before the type existed still open.
#[test]
fn version_ids_keep_their_journal_form() {
    use super::VersionId;
    for (id, json) in [
        (VersionId::Null, "\"null\""),
        (VersionId::Id("0a1b".into()), "\"0a1b\""),
    ] {
        assert_eq!(serde_json::to_string(&id).unwrap(), json);
        assert_eq!(serde_json::from_str::<VersionId>(json).unwrap(), id);
    }
    let line = r#"{"op":"del","key":"k","id":"null"}"#;
    let rec: Record = serde_json::from_str(line).unwrap();
    assert_eq!(serde_json::to_string(&rec).unwrap(), line);
}
