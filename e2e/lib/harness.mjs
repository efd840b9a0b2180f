// What every browser test file shares: one Chromium, one server, pages that record what they
// ask the network for and what they log, waits on conditions, and screenshots.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { freshDataDir, startServer } from './server.mjs';

export const SCREENSHOTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

/** How long a condition may take to become true before a test fails. */
export const WAIT_MS = 10000;

export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const DESKTOP = { viewport: { width: 1280, height: 800 } };

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * One test file's world: a data directory, a server, a browser, and the pages opened so far.
 * `setup` runs before the server starts (e.g. to write history fixtures into the data dir).
 */
export class World {
  constructor(label, { setup, serverArgs = [] } = {}) {
    this.label = label;
    this.setup = setup;
    this.serverArgs = serverArgs;
    this.pages = []; // { name, page, context, requests, errors, badResponses, excused }
    this.servers = [];
  }

  async start() {
    this.dataDir = freshDataDir(this.label);
    if (this.setup) await this.setup(this.dataDir);
    this.server = await startServer({ dataDir: this.dataDir, args: this.serverArgs });
    this.servers.push(this.server);
    this.browser = await launchBrowser();
  }

  get origin() { return this.server.origin; }

  /** Stops the server (SIGTERM → 1012 to every page) and starts a new one on the same port. */
  async restartServer(betweenStopAndStart) {
    const port = this.server.port;
    await this.server.stop();
    if (betweenStopAndStart) await betweenStopAndStart();
    this.server = await startServer({ dataDir: this.dataDir, port, args: this.serverArgs });
    this.servers.push(this.server);
    assert.equal(this.server.port, port);
  }

  /**
   * Opens `path` (e.g. `/r/kitchen?name=Ann`) in a new browser context of its own (own cookies,
   * like a separate person), and waits until its WebSocket is connected and the welcome arrived.
   */
  async open(name, path, contextOptions = {}) {
    const context = await this.browser.newContext({ ...DESKTOP, locale: 'en-GB', ...contextOptions });
    return this.openIn(context, name, path);
  }

  /**
   * Opens `path` in a new page of `context` (the same person, cookies and local storage as a
   * page opened before in it), and waits for the welcome like `open`.
   */
  async openIn(context, name, path) {
    const page = await context.newPage();
    const entry = { name, page, context, requests: [], errors: [], badResponses: [], excused: [] };
    context.on('request', (r) => entry.requests.push(r.url()));
    page.on('websocket', (ws) => entry.requests.push(ws.url()));
    page.on('console', (m) => { if (m.type() === 'error') entry.errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => entry.errors.push(`pageerror: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 400) entry.badResponses.push(`${r.status()} ${r.url()}`); });
    this.pages.push(entry);
    await page.goto(this.origin + path);
    await waitWelcome(page);
    return page;
  }

  entry(page) { return this.pages.find((p) => p.page === page); }

  /**
   * Runs `fn` and excuses the errors that `page` logs meanwhile that match one of `patterns`
   * (e.g. failed reconnect attempts while the server is down). Others still fail the check.
   */
  async excusingErrors(pages, patterns, fn) {
    const entries = pages.map((p) => this.entry(p));
    const marks = entries.map((e) => e.errors.length);
    try {
      return await fn();
    } finally {
      entries.forEach((e, i) => {
        const during = e.errors.splice(marks[i]);
        for (const err of during) (patterns.some((re) => re.test(err)) ? e.excused : e.errors).push(err);
      });
    }
  }

  /** A screenshot of one page, now. */
  async screenshot(page, label) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${slug(this.label)}--${slug(label)}.png`) });
  }

  /** A screenshot of every open page, named after the test. */
  async screenshots(testName) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const { name, page } of this.pages) {
      if (page.isClosed()) continue;
      const file = join(SCREENSHOTS, `${slug(this.label)}--${slug(testName)}--${slug(name)}.png`);
      await page.screenshot({ path: file }).catch(() => {});
    }
  }

  /**
   * Every page asked only our server for anything (HTTP and WebSocket), got no error status, and
   * logged no error (a CSP violation is logged as one), except those excused by `excusingErrors`.
   */
  assertCleanPages() {
    const host = `127.0.0.1:${this.server.port}`;
    for (const { name, requests, errors, badResponses } of this.pages) {
      assert.ok(requests.some((u) => u.startsWith(`ws://${host}/`)), `${name}: no WebSocket to the server seen`);
      const elsewhere = requests.filter((u) => !u.startsWith(`http://${host}/`) && !u.startsWith(`ws://${host}/`));
      assert.deepEqual(elsewhere, [], `${name} made requests to something other than the server`);
      assert.deepEqual(badResponses, [], `${name} got error responses`);
      assert.deepEqual(errors, [], `${name} logged errors`);
    }
  }

  async close() {
    await this.browser?.close().catch(() => {});
    for (const server of this.servers) await server.stop().catch(() => {});
  }
}

function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
}

/** Waits until `fn(arg)`, run in the page, is truthy; on timeout says `what`. */
export async function waitUntil(page, what, fn, arg, timeout = WAIT_MS) {
  try {
    return await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  } catch (err) {
    const state = await page.evaluate(() => ({
      status: document.getElementById('status')?.textContent,
      me: document.getElementById('me')?.dataset.name,
      notice: document.getElementById('notice')?.textContent,
      messages: [...document.querySelectorAll('#messages li')].slice(-8).map((li) => li.textContent),
    })).catch(() => 'page not readable');
    throw new Error(`timed out waiting for: ${what}\npage state: ${JSON.stringify(state, null, 1)}\n(${err.message.split('\n')[0]})`);
  }
}

/** The WebSocket is open and the welcome (history, roster, name) has been swapped in. */
export function waitWelcome(page, timeout = WAIT_MS) {
  return waitUntil(page, 'connected and welcomed', () => {
    const status = document.getElementById('status');
    const me = document.getElementById('me');
    return status && status.classList.contains('connected') && me && me.dataset.name &&
      document.querySelector('#messages > #more') !== null;
  }, undefined, timeout);
}

/** Types `text` into the message input and presses Enter. */
export async function send(page, text) {
  const input = page.locator('#send [name="message"]');
  await input.fill(text);
  await input.press('Enter');
}

/** The texts of the chat messages on the page, in order. */
export function messageTexts(page) {
  return page.$$eval('#messages li.message .text', (els) => els.map((e) => e.textContent));
}

/** Waits until a message with exactly `text` is in the list (from `name`, if given). */
export function waitForMessage(page, text, name) {
  return waitUntil(page, `message "${text}"${name ? ` from ${name}` : ''}`, ([text, name]) =>
    [...document.querySelectorAll('#messages li.message')].some((li) =>
      li.querySelector('.text')?.textContent === text && (!name || li.dataset.name === name)),
  [text, name]);
}

/** The names in the roster, in order. */
export function roster(page) {
  return page.$$eval('#roster li[data-name]', (els) => els.map((e) => e.dataset.name));
}

export function waitForRoster(page, names) {
  return waitUntil(page, `roster ${JSON.stringify(names)}`, (names) => {
    const shown = [...document.querySelectorAll('#roster li[data-name]')].map((e) => e.dataset.name).sort();
    return JSON.stringify(shown) === JSON.stringify([...names].sort());
  }, names);
}

/** Writes a room's log, as the server stores it: one JSON object per line. */
export function historyLines(count, { startMs, stepMs = 60000, name = (i) => (i % 2 ? 'Ann' : 'Bob'), text = (i) => `old message ${i}` }) {
  let out = '';
  for (let seq = 1; seq <= count; seq++) {
    out += JSON.stringify({ seq, ts: startMs + (seq - 1) * stepMs, name: name(seq), text: text(seq) }) + '\n';
  }
  return out;
}
