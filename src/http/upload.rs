//! `POST /r/ROOM/files?name=NAME`: a member shares a file with its room.
//!
//! The file is the raw request body, its type the request's `Content-Type`, framed by one
//! `Content-Length` (no chunked bodies, no multipart). Everything that can be decided from the
//! head is decided before a byte of the body is read, each with its own answer:
//!
//! | check | refused with |
//! |---|---|
//! | the page that sends it is of this server (the WebSocket's same-origin rule) | 403 |
//! | the server has a data directory (not `--memory`) | 409 |
//! | a name in `?name=` that a file can have (`files::name`) | 400 |
//! | a `Content-Length` | 411 |
//! | at most `--max-upload` | 413 |
//! | the uploader is in the room now | 403 |
//! | room for it in `--files-quota` | 507 |
//! | at most `--upload-rate` uploads from this address in 10 minutes | 429 with `Retry-After` |
//!
//! The access code and the per-address connection cap (`--max-per-ip`) apply as to any request.
//!
//! **Who uploads.** A request that carries a member id (the page's `chatroom_id` cookie, see
//! `crate::identity`) uploads as the member of the room with that id, and as no one else: a page
//! cannot post under another browser's member on the same address. One without an id (a script)
//! uploads as a member of the room connected from the same IP address right now, as before member
//! ids existed. Either way `?member=NAME` picks which, when several are (the page sends its own),
//! and otherwise it is the one that came first. The file's message is posted in the room under that
//! member's name and author.
//!
//! Then the body is read in pieces while it is hashed and written to a temporary file
//! (`files::Incoming`); a body that stops for `--head-timeout` is cut off (408), one that ends
//! early leaves nothing behind, and only a complete one is stored and posted. The room lock is
//! taken only at the end, to number, log and relay the message: never during the transfer.

use std::net::IpAddr;
use std::time::Instant;

use crate::files::{self, media, transfer, Files};
use crate::http::body::{Body, Cut};
use crate::http::head::Request;
use crate::http::response::Response;
use crate::protocol::attachment::SharedFile;
use crate::protocol::html::url_encode;
use crate::shared::Shared;

/// Answers an upload to `room` (a valid room name) from `peer`, reading its body if all is well.
pub fn upload(request: &Request, peer: IpAddr, body: &mut Body<'_>, shared: &Shared, room: &str) -> Response {
    // A page of another site must not share files as our visitor (with their cookies); browsers
    // send `Origin` with every POST, so the WebSocket's rule applies as it is.
    if super::origin::check_origin(request, &shared.config.allow_origins).is_err() {
        return Response::text(403, "Cross-site upload refused: only this server's own pages may share files here.");
    }
    let Some(files) = &shared.files else {
        return Response::text(409, "File sharing needs a data directory: this server runs with --memory.");
    };
    let name = match files::name::validate(&request.query_param("name").unwrap_or_default()) {
        Ok(name) => name,
        Err(why) => return Response::text(400, why),
    };
    if request.header_count("Content-Length") == 0 {
        return Response::text(411, "Send the file with a Content-Length (no chunked bodies).");
    }
    let size = body.len() as u64;
    let max = shared.config.max_upload;
    if size > max {
        let line = format!("That file is too large: {size} bytes, and at most {max} may be shared here.");
        return Response::text(413, line);
    }
    let wanted = request.query_param("member");
    // A room that is not in memory has nobody in it.
    let live = shared.rooms.all().into_iter().find(|live| live.name == room);
    // With a member id (a browser's cookie), the uploader is that member; without one (a script),
    // a member connected from the same address, as before there were ids.
    let author = super::hosting::member_id(request).map(|id| shared.identities.author(&id));
    let member = live.as_ref().and_then(|live| match &author {
        Some(author) => live.member_with(author, wanted.as_deref()),
        None => live.member_at(peer, wanted.as_deref()),
    });
    let (Some(live), Some(member)) = (live, member) else {
        let why = match wanted {
            Some(_) => "Nobody of that name is in this room from your address.",
            None => "Only someone in this room can share a file here: join it first.",
        };
        return Response::text(403, why);
    };
    let Ok(_reserved) = files.reserve(size) else {
        return Response::text(507, "The server has no room left for shared files (its --files-quota is used up).");
    };
    // Last, so that only uploads that are going ahead count.
    if let Err(wait) = files.rate.admit(peer, Instant::now()) {
        let secs = wait.as_secs().max(1);
        return Response::text(429, format!("Too many uploads from your address; try again in {secs} s."))
            .with_header("Retry-After", secs.to_string());
    }
    // A big body gives way to chat while it is received, and its connection then closes (see
    // `files::transfer`).
    let big = size > transfer::BIG;
    if big {
        transfer::give_way();
    }
    let stored = match receive(request, body, files, name, big) {
        Ok(stored) => stored,
        Err(refused) => return refused,
    };
    let file = SharedFile {
        url: format!("/files/{}/{}", stored.hash, url_encode(&stored.entry.name)),
        name: stored.entry.name,
        size: stored.size,
        media_type: stored.entry.media_type,
    };
    let answer = serde_json::to_string(&file).expect("a shared file always serialises");
    let location = file.url.clone();
    live.post_file(&member, file);
    let created = Response::new(201, "application/json", answer.into_bytes()).with_header("Location", location);
    if big {
        created.closing()
    } else {
        created
    }
}

/// Reads the body into the store, and stores it under `name`; a `big` one in steps.
fn receive(
    request: &Request,
    body: &mut Body<'_>,
    files: &Files,
    name: String,
    big: bool,
) -> Result<files::Stored, Response> {
    let failed = |what: &str, e: std::io::Error| {
        crate::log::error(format_args!("upload of {name:?}: cannot {what}: {e}"));
        // A full disk (the quota is larger than the disk) is the host's to fix, and says so.
        let status = if e.kind() == std::io::ErrorKind::StorageFull { 507 } else { 500 };
        Response::text(status, "The server could not store that file; nothing was shared.").closing()
    };
    let mut incoming = files.incoming().map_err(|e| failed("make a temporary file", e))?;
    if request.has_token("Expect", "100-continue") {
        body.send_continue().map_err(|e| failed("answer Expect: 100-continue", e))?;
    }
    // A big body in steps, letting relays run in between (see `files::transfer`).
    let mut pace = big.then(transfer::Pace::default);
    let received = body.read_each(|piece| match &mut pace {
        None => incoming.write(piece),
        // A step's work is hashing and writing it (receiving it was waiting for the client).
        Some(pace) => piece.chunks(transfer::STEP).try_for_each(|step| pace.step(|| incoming.write(step))),
    });
    match received {
        Ok(()) => {}
        Err(Cut::Stalled) => {
            return Err(Response::text(408, "The file stopped arriving; nothing was shared.").closing())
        }
        Err(Cut::Ended) => return Err(Response::text(400, "The file ended early; nothing was shared.").closing()),
        Err(Cut::Sink(e)) => return Err(failed("write it", e)),
    }
    let declared = media::declared(request.header_str("Content-Type"));
    files.commit(incoming, name.clone(), &declared).map_err(|e| failed("store it", e))
}
