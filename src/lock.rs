//! The one way the server takes a lock.

use std::sync::{Mutex, MutexGuard};

/// Takes a lock even if another thread panicked while holding it, which is how every lock in
/// the server is taken. Each piece of state behind a lock stays consistent across a panic (every
/// update is a single push, remove, insert or assignment; a cut frame has already marked its
/// member closed), so a poisoned lock is taken over rather than spreading one connection's panic
/// to every thread that touches the same room, member or registry.
pub(crate) fn take<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
