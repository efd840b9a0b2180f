// Starting and stopping real chatroom server processes for the browser tests.
//
// Every process started here is remembered, and killed when the test process exits, whatever
// the reason. If E2E_PID_FILE is set (run.sh sets it), each PID is also appended to that file, so
// that run.sh can kill any server left behind by a test process that was itself killed.

import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The server binary: $CHATROOM_BIN, else the debug build (`cargo build --bin chatroom`). */
export const BIN =
  process.env.CHATROOM_BIN || join(REPO, 'target', 'debug', 'chatroom');

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/** A fresh, empty data directory, removed when the process exits. */
export function freshDataDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `chatroom-e2e-${label}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts `chatroom --bind HOST:PORT --data-dir DIR --max-per-ip 0` and resolves once it prints
 * its "chatroom listening on http://IP:PORT" line. `port` 0 picks a free port; a given port is
 * retried for a few seconds while it is still taken (a restart on the same port).
 */
export async function startServer({ dataDir, port = 0, args = [], timeoutMs = 15000 }) {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ dataDir, port, args, deadline });
    } catch (err) {
      const retry = port !== 0 && /in use/i.test(err.message) && Date.now() < deadline;
      if (!retry) throw err;
      // The old process has exited, so this is only the kernel letting go of the port.
      await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500)));
    }
  }
}

function startOnce({ dataDir, port, args, deadline }) {
  const argv = ['--bind', `127.0.0.1:${port}`, '--data-dir', dataDir, '--max-per-ip', '0', ...args];
  const child = spawn(BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  if (process.env.E2E_PID_FILE && child.pid) appendFileSync(process.env.E2E_PID_FILE, `${child.pid}\n`);
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000); // only for failure reports
  };
  const exited = new Promise((r) => child.once('exit', (code, signal) => { live.delete(child); r({ code, signal }); }));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', keep); // keep draining, or the server would block on a full pipe

  return new Promise((resolveStart, rejectStart) => {
    let stdout = '';
    let started = false;
    const timer = setTimeout(() => fail(new Error(`chatroom did not start within the time limit.\n${output}`)),
      Math.max(0, deadline - Date.now()));
    const fail = (err) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      rejectStart(err);
    };
    child.on('error', (err) => fail(new Error(`could not run ${BIN}: ${err.message} (build it: cargo build --bin chatroom)`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      keep(chunk);
      if (started) return;
      stdout += chunk;
      const m = /chatroom listening on http:\/\/([0-9.]+):(\d+)/.exec(stdout);
      if (!m) return;
      started = true;
      clearTimeout(timer);
      const server = {
        process: child,
        host: m[1],
        port: Number(m[2]),
        origin: `http://${m[1]}:${m[2]}`,
        dataDir,
        output: () => output,
        exited,
        /** SIGTERM (every WebSocket gets 1012), and wait for the process to end. */
        async stop(timeoutMs = 10000) {
          if (child.exitCode !== null || child.signalCode !== null) return exited;
          child.kill('SIGTERM');
          let t;
          const late = new Promise((r) => { t = setTimeout(r, timeoutMs, 'late'); });
          const how = await Promise.race([exited, late]);
          clearTimeout(t);
          if (how === 'late') {
            child.kill('SIGKILL');
            await exited;
            throw new Error(`chatroom did not exit within ${timeoutMs} ms of SIGTERM.\n${output}`);
          }
          return how;
        },
      };
      resolveStart(server);
    });
    exited.then(({ code, signal }) => {
      if (!started) fail(new Error(`chatroom exited (code ${code}, signal ${signal}) before listening:\n${output}`));
    });
  });
}
