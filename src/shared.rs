//! [`Shared`]: what every connection thread shares, made once at start.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::access::Access;
use crate::chat::directory::Directory;
use crate::chat::member::Member;
use crate::chat::rooms::{Rooms, Storage, StorageError};
use crate::config::Config;
use crate::files::Files;
use crate::identity::{HostKey, Identities};
use crate::limits::{Gate, Rates};
use crate::lock;

/// What every connection thread shares.
pub struct Shared {
    /// The settings the server was started with.
    pub(crate) config: Config,
    /// Every room (the registry), with its members and history.
    pub(crate) rooms: Rooms,
    /// What every member was last told of the list of rooms.
    pub(crate) directory: Directory,
    /// The connection caps, checked before a connection gets a thread.
    pub(crate) gate: Arc<Gate>,
    /// The rate limit's memory of each address (its burst survives reconnecting).
    pub(crate) rates: Rates,
    /// The optional access code and its sessions.
    pub(crate) access: Access,
    /// The hashes that stand for member ids (in logs, on the page).
    pub(crate) identities: Identities,
    /// The host's key.
    pub(crate) host: HostKey,
    /// The shared files, unless `--memory` (then there is no file sharing).
    pub(crate) files: Option<Files>,
    /// Every open WebSocket, chat or echo, by connection id: for shutdown, which must reach them all.
    members: Mutex<HashMap<u64, Arc<Member>>>,
}

impl Shared {
    pub(crate) fn new(config: Config) -> Result<Shared, StorageError> {
        let storage = Storage {
            history: config.history,
            data_dir: config.storage_dir().map(|p| p.to_path_buf()),
            fsync: config.fsync,
            max_rooms: config.max_rooms,
        };
        let rooms = Rooms::open(storage)?;
        let gate = Gate::new(config.max_connections, config.max_per_ip);
        let rates = Rates::new(config.rate_limit, config.rate_burst);
        let dir = config.storage_dir();
        let access = Access::new(config.access_code.clone(), dir)
            .map_err(|e| StorageError::Secret(dir.unwrap_or(Path::new(".")).join(crate::access::SECRET_FILE), e))?;
        let secret = crate::access::server_secret(dir)
            .map_err(|e| StorageError::Secret(dir.unwrap_or(Path::new(".")).join(crate::access::SECRET_FILE), e))?;
        let identities = Identities::new(&secret);
        let host = HostKey::new(config.host_key.as_deref(), &secret);
        let directory = Directory::default();
        let files = match dir {
            Some(dir) => Some(
                Files::open(dir, config.files_quota, config.upload_rate, config.fsync)
                    .map_err(|e| StorageError::CreateDir(dir.join(crate::files::FOLDER), e))?,
            ),
            None => None,
        };
        let members = Mutex::new(HashMap::new());
        Ok(Shared { config, rooms, directory, gate, rates, access, identities, host, files, members })
    }

    fn members(&self) -> MutexGuard<'_, HashMap<u64, Arc<Member>>> {
        lock::take(&self.members)
    }

    /// Records an open WebSocket.
    pub fn register(&self, member: &Arc<Member>) {
        self.members().insert(member.id, member.clone());
    }

    /// Forgets a WebSocket that has ended.
    pub fn unregister(&self, id: u64) {
        self.members().remove(&id);
    }

    /// The open WebSockets, copied out so that the caller holds no lock while writing to them.
    pub fn members_snapshot(&self) -> Vec<Arc<Member>> {
        self.members().values().cloned().collect()
    }

    /// How many WebSockets are open.
    pub fn member_count(&self) -> usize {
        self.members().len()
    }
}

impl Shared {
    /// The host's key, for the host link printed at start.
    pub fn host_key(&self) -> &str {
        self.host.key()
    }
}
