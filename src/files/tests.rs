//! The store on a real directory.

use super::*;
use sha2::{Digest, Sha256};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chatroom-files-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn store(files: &Files, bytes: &[u8], name: &str, declared: &str) -> Stored {
    let mut incoming = files.incoming().unwrap();
    for piece in bytes.chunks(3) {
        incoming.write(piece).unwrap();
    }
    files.commit(incoming, name.into(), declared).unwrap()
}

fn temporary_files(dir: &Path) -> usize {
    fs::read_dir(dir.join(FOLDER).join("tmp")).unwrap().count()
}

#[test]
fn the_same_bytes_are_stored_once_under_every_name() {
    let dir = temp_dir("dedupe");
    let files = Files::open(&dir, 1000, 0, FsyncPolicy::Never).unwrap();
    let first = store(&files, b"hello, world", "a.txt", "text/plain");
    // echo -n 'hello, world' | sha256sum
    assert_eq!(first.hash, "09ca7e4eaa6e8ae9c7d261167129184883644d07dfba7cbfbc4c8a2e08360d5b");
    assert_eq!((first.size, first.entry.media_type.as_str()), (12, "text/plain"));
    let second = store(&files, b"hello, world", "b.bin", "application/x-thing");
    assert_eq!(second.hash, first.hash);
    assert_eq!(files.used(), 12, "stored once");
    let (entry, _, size) = files.find(&first.hash, "b.bin").unwrap().unwrap();
    assert_eq!((entry.media_type.as_str(), size), ("application/x-thing", 12));
    assert!(files.find(&first.hash, "a.txt").unwrap().is_some());
    assert!(files.find(&first.hash, "c.txt").unwrap().is_none(), "a name it was never shared under");
    assert!(files.find(&"0".repeat(64), "a.txt").unwrap().is_none());
    assert!(files.find("../../etc/passwd", "a.txt").unwrap().is_none());
    assert_eq!(temporary_files(&dir), 0);
    // A restart sums the stored files again.
    drop(files);
    assert_eq!(Files::open(&dir, 1000, 0, FsyncPolicy::Always).unwrap().used(), 12);
}

#[test]
fn a_torn_upload_leaves_nothing_and_a_crash_is_cleaned_at_start() {
    let dir = temp_dir("torn");
    let files = Files::open(&dir, 1000, 0, FsyncPolicy::Never).unwrap();
    let mut incoming = files.incoming().unwrap();
    incoming.write(b"half of it").unwrap();
    assert_eq!(temporary_files(&dir), 1);
    drop(incoming);
    assert_eq!(temporary_files(&dir), 0, "dropped: the body never completed");
    // What a kill -9 leaves behind.
    fs::write(dir.join(FOLDER).join("tmp").join("upload-left"), b"partial").unwrap();
    drop(files);
    let files = Files::open(&dir, 1000, 0, FsyncPolicy::Never).unwrap();
    assert_eq!(temporary_files(&dir), 0);
    assert_eq!(files.used(), 0);
}

#[test]
fn the_quota_counts_uploads_in_progress() {
    let dir = temp_dir("quota");
    let files = Files::open(&dir, 100, 0, FsyncPolicy::Never).unwrap();
    let sixty = files.reserve(60).unwrap();
    assert_eq!(files.reserve(41).err(), Some(Full { quota: 100, free: 40 }));
    let forty = files.reserve(40).unwrap();
    drop((sixty, forty));
    let _held = files.reserve(100).unwrap();
    assert!(files.reserve(1).is_err());
}

/// A durable upload is written out as it comes ([`incoming::WRITE_BEHIND`] at a time, pieces of
/// any size): what is stored is the bytes, whole, under their hash.
#[test]
fn a_durable_upload_written_out_as_it_comes_is_stored_whole() {
    let dir = temp_dir("write-behind");
    let files = Files::open(&dir, 1 << 30, 0, FsyncPolicy::Interval).unwrap();
    let len = 5 * incoming::WRITE_BEHIND as usize + 12_345;
    let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4099) as u8).collect();
    let mut incoming = files.incoming().unwrap();
    // Odd piece sizes, so that no range ends where the last one did.
    for piece in bytes.chunks(131_071) {
        incoming.write(piece).unwrap();
    }
    let stored = files.commit(incoming, "big.bin".into(), "application/octet-stream").unwrap();
    let expected: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!((stored.hash.as_str(), stored.size), (expected.as_str(), len as u64));
    assert_eq!(fs::read(dir.join(FOLDER).join(&stored.hash)).unwrap(), bytes);
    assert_eq!(temporary_files(&dir), 0);
}

/// Writing out (`sync_file_range`) that fails is an error, never ignored: `Incoming::write` passes
/// it up, and the upload answers 500 with nothing stored. `/dev/null` cannot be written out.
#[test]
fn a_write_behind_that_fails_says_so() {
    let null = File::options().write(true).open("/dev/null").unwrap();
    let failed = crate::sys::write_behind(&null, 0, incoming::WRITE_BEHIND, Some((0, 1))).unwrap_err();
    assert_eq!(failed.kind(), io::ErrorKind::NotSeekable, "ESPIPE: {failed}");
    // And on a real file it works.
    let dir = temp_dir("write-behind-real");
    let path = dir.join("f");
    let mut file = File::create(&path).unwrap();
    file.write_all(&[7u8; 8192]).unwrap();
    crate::sys::write_behind(&file, 0, 4096, None).unwrap();
    crate::sys::write_behind(&file, 4096, 4096, Some((0, 4096))).unwrap();
}
