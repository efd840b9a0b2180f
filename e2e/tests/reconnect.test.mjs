// A server restart: the open pages notice, say so, reconnect by themselves, and go on chatting
// without showing any message twice.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  World, messageTexts, send, waitForMessage, waitUntil, waitWelcome,
} from '../lib/harness.mjs';

/** Each text appears exactly once, the list has exactly `texts.length` messages, in seq order. */
async function assertExactly(page, texts, who) {
  const shown = await messageTexts(page);
  assert.deepEqual(shown, texts, `${who}'s messages`);
  const seqs = await page.$$eval('#messages li.message', (lis) => lis.map((li) => Number(li.dataset.seq)));
  assert.equal(new Set(seqs).size, seqs.length, `${who}: a seq shown twice: ${seqs}`);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${who}: out of order: ${seqs}`);
}

describe('a server restart', { timeout: 60000 }, () => {
  const world = new World('reconnect');
  let ann, bob;

  before(() => world.start());
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('open pages reconnect by themselves and keep chatting, with no message twice', async () => {
    ann = await world.open('ann', '/r/lounge?name=Ann');
    bob = await world.open('bob', '/r/lounge?name=Bob', { timezoneId: 'Europe/Berlin' });
    await send(ann, 'before the restart, from Ann');
    await waitForMessage(bob, 'before the restart, from Ann', 'Ann');
    await send(bob, 'before the restart, from Bob');
    await waitForMessage(ann, 'before the restart, from Bob', 'Bob');
    const before = ['before the restart, from Ann', 'before the restart, from Bob'];
    await assertExactly(ann, before, 'Ann');
    await assertExactly(bob, before, 'Bob');

    // Remember the lists shown now: after the reconnect, the welcome replaces them.
    for (const page of [ann, bob]) await page.evaluate(() => { window.e2eOldList = document.getElementById('messages'); });

    // A reconnect attempt that happens to fall in the gap between the two servers fails, and
    // Chromium and htmx log that as an error ("[object Event]" is htmx logging the wsError).
    // That is expected here, and only for our own server's WebSocket; any other error still fails.
    const host = `127.0.0.1:${world.server.port}`.replace(/\./g, '\\.');
    const gapErrors = [
      new RegExp(`^console: WebSocket connection to 'ws://${host}/r/lounge/connect\\?name=\\w+' failed`),
      /^console: \[object Event\]$/,
    ];
    await world.excusingErrors([ann, bob], gapErrors, async () => {
      await world.restartServer(async () => {
        // While the server is down, both pages say they are reconnecting.
        for (const page of [ann, bob]) {
          await waitUntil(page, 'status: reconnecting', () => {
            const s = document.getElementById('status');
            return s.classList.contains('reconnecting') && /reconnecting/.test(s.textContent);
          });
        }
        await world.screenshot(ann, 'while-the-server-is-down--ann');
      });
      // Nobody reloads anything: the pages come back on their own.
      for (const page of [ann, bob]) {
        await waitUntil(page, 'a new welcome after the restart', () =>
          window.e2eOldList && document.getElementById('messages') !== window.e2eOldList, undefined, 15000);
        await waitWelcome(page);
      }
    });
    assert.equal(await ann.textContent('#status'), 'connected');
    await assertExactly(ann, before, 'Ann');
    await assertExactly(bob, before, 'Bob');

    await send(bob, 'after the restart, from Bob');
    await waitForMessage(ann, 'after the restart, from Bob', 'Bob');
    await send(ann, 'after the restart, from Ann');
    await waitForMessage(bob, 'after the restart, from Ann', 'Ann');
    await waitForMessage(ann, 'after the restart, from Ann', 'Ann');
    const all = [...before, 'after the restart, from Bob', 'after the restart, from Ann'];
    await assertExactly(ann, all, 'Ann');
    await assertExactly(bob, all, 'Bob');
    assert.equal(await ann.locator('#messages li.message').count(), 4);
  });

  it('a page opened after the restart sees the same history once', async () => {
    const cleo = await world.open('cleo', '/r/lounge?name=Cleo');
    await assertExactly(cleo, await messageTexts(ann), 'Cleo');
    assert.equal(await cleo.locator('#messages li.message').count(), 4);
  });

  it('pages asked nothing of any other host and logged no other errors', () => {
    world.assertCleanPages();
  });
});
