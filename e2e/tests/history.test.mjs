// A room with a long past: the page shows the newest 100 messages, "Load older messages" brings
// the rest without moving what the reader looks at, and the list follows new messages only while
// the reader is at the bottom.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { World, historyLines, send, waitForMessage, waitUntil } from '../lib/harness.mjs';

const OLD = 150; // messages in the log before the server starts
const START_MS = Date.UTC(2025, 0, 15, 10, 0, 0); // 15 January 2025, 10:00 UTC

function seqsShown(page) {
  return page.$$eval('#messages li.message', (lis) => lis.map((li) => Number(li.dataset.seq)));
}

/** Waits until the list has stopped scrolling (same position for a few frames). */
function settleScroll(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const list = document.getElementById('messages');
    let last = -1;
    let same = 0;
    (function frame() {
      same = list.scrollTop === last ? same + 1 : 0;
      last = list.scrollTop;
      if (same >= 3) resolve(last); else requestAnimationFrame(frame);
    })();
  }));
}

function atBottom(page) {
  return page.evaluate(() => {
    const l = document.getElementById('messages');
    return l.scrollHeight - l.scrollTop - l.clientHeight <= 2;
  });
}

function waitAtBottom(page) {
  return waitUntil(page, 'the list scrolled to the newest message', () => {
    const l = document.getElementById('messages');
    return l.scrollHeight > l.clientHeight && l.scrollHeight - l.scrollTop - l.clientHeight <= 2;
  });
}

/**
 * Scrolls the message list with the mouse wheel, as a reader would, and waits until it rests.
 * CI once saw a first turn of the wheel come to nothing (a resize in the same frame pulling the
 * still-following list back down; the page now stops following on the wheel event itself, see
 * app.js). A reader whose turn is lost turns again, and so does this, up to five times; what the
 * tests check is what happens once the reader has scrolled.
 */
async function wheel(page, deltaY) {
  const box = await page.locator('#messages').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const start = await settleScroll(page);
  const scrolled = ([start, deltaY]) => {
    const l = document.getElementById('messages');
    const max = l.scrollHeight - l.clientHeight;
    return deltaY > 0 ? l.scrollTop >= Math.min(max - 2, start + deltaY / 2) : l.scrollTop <= Math.max(0, start + deltaY / 2);
  };
  for (let turn = 1; ; turn++) {
    await page.mouse.wheel(0, deltaY);
    const last = turn === 5;
    try {
      await waitUntil(page, `the list scrolled by ${deltaY} from ${start}`, scrolled, [start, deltaY], last ? undefined : 2000);
      break;
    } catch (err) {
      if (last) throw err;
    }
  }
  return settleScroll(page);
}

describe('a room with a long history', { timeout: 60000 }, () => {
  const world = new World('history', {
    setup: (dir) => writeFileSync(join(dir, 'archive.jsonl'), historyLines(OLD, { startMs: START_MS })),
  });
  let reader, writer;

  before(() => world.start());
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('a new page shows the newest 100 messages, scrolled to the newest', async () => {
    reader = await world.open('reader', '/r/archive?name=Reader', { timezoneId: 'Asia/Tokyo' });
    const seqs = await seqsShown(reader);
    assert.equal(seqs.length, 100);
    assert.deepEqual([seqs[0], seqs.at(-1)], [OLD - 99, OLD]);
    assert.equal(await reader.locator('#more button').textContent(), 'Load older messages');
    await waitAtBottom(reader);
    // Messages from another day show the date too, in the reader's zone (10:00 UTC is 19:00 in Tokyo).
    const first = await reader.locator(`#messages li.message[data-seq="${OLD - 99}"] time`).textContent();
    const firstUtc = new Date(START_MS + (OLD - 100) * 60000);
    const tokyo = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(firstUtc);
    assert.equal(first, `15 Jan ${tokyo}`);
  });

  it('"Load older messages" loads the rest, in order, without moving the view', async () => {
    const button = reader.locator('#more button');
    await button.scrollIntoViewIfNeeded();
    await settleScroll(reader);
    const anchor = `#messages li.message[data-seq="${OLD - 99}"]`;
    const topBefore = await reader.locator(anchor).evaluate((li) => li.getBoundingClientRect().top);
    await button.click();
    await waitUntil(reader, `${OLD} messages`, (n) => document.querySelectorAll('#messages li.message').length === n, OLD);
    const seqs = await seqsShown(reader);
    assert.deepEqual(seqs, Array.from({ length: OLD }, (_, i) => i + 1));
    assert.match(await reader.locator('#more').textContent(), /start of the conversation/);
    // What the reader was looking at stays where it was.
    const topAfter = await reader.locator(anchor).evaluate((li) => li.getBoundingClientRect().top);
    assert.ok(Math.abs(topAfter - topBefore) <= 2, `the view jumped from ${topBefore} to ${topAfter}`);
    // The loaded messages get local times too.
    const utcLeft = await reader.$$eval('#messages time', (ts) => ts.filter((t) => !t.hasAttribute('data-local') || /UTC/.test(t.textContent)).length);
    assert.equal(utcLeft, 0);
  });

  it('the list follows new messages, unless the reader has scrolled up', async () => {
    writer = await world.open('writer', '/r/archive?name=Writer');

    await wheel(reader, 100000); // back to the bottom
    assert.ok(await atBottom(reader));
    await send(writer, 'follow me');
    await waitForMessage(reader, 'follow me', 'Writer');
    await waitAtBottom(reader);

    const top = await wheel(reader, -1500); // up, to read older messages
    await send(writer, 'do not pull me down');
    await waitForMessage(reader, 'do not pull me down', 'Writer');
    await settleScroll(reader);
    assert.equal(await reader.evaluate(() => document.getElementById('messages').scrollTop), top, 'the list moved');
    assert.equal(await atBottom(reader), false);

    await wheel(reader, 100000); // and down again: following resumes
    await send(writer, 'follow me again');
    await waitForMessage(reader, 'follow me again', 'Writer');
    await waitAtBottom(reader);
    // The writer's page stayed at the bottom all along.
    await waitAtBottom(writer);
  });

  it('pages asked nothing of any other host and logged no errors', () => {
    world.assertCleanPages();
  });
});
