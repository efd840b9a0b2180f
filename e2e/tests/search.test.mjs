// Search and export from the page: the search box finds a message that is long gone from the
// conversation (not among the newest 100), marks the match, pages back with "Load more", and
// scrolls to a result that is loaded; the export links download the room's history.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { World, historyLines, waitUntil } from '../lib/harness.mjs';

const OLD = 160; // messages in the log before the server starts
const START_MS = Date.UTC(2025, 0, 15, 10, 0, 0); // 15 January 2025, 10:00 UTC, a minute apart
const LOST = 'lost: the <b>Golden</b> Needle & thread'; // message 7's text, from Ann

function text(seq) {
  return seq === 7 ? LOST : `old message ${seq}`;
}

/** Types `query` into the search box, presses Enter, and waits for the status line's answer. */
async function search(page, query) {
  const box = page.locator('#search input[name="q"]');
  await box.fill(query);
  await box.press('Enter');
  await waitUntil(page, `results for "${query}"`, () => {
    const status = document.getElementById('search-status')?.textContent || '';
    return !document.getElementById('search-results').hidden && status !== '' && !status.startsWith('Searching');
  });
}

/** The results shown: each one's seq, name, text and marked parts. */
function results(page) {
  return page.$$eval('#search-list li', (lis) => lis.map((li) => ({
    seq: Number(li.dataset.seq),
    name: li.querySelector('.name').textContent,
    text: li.querySelector('.text').textContent,
    marks: [...li.querySelectorAll('mark')].map((m) => m.textContent),
  })));
}

describe('search and export', { timeout: 60000 }, () => {
  const world = new World('search', {
    setup: (dir) => writeFileSync(join(dir, 'attic.jsonl'), historyLines(OLD, { startMs: START_MS, text })),
  });
  let page;

  before(() => world.start());
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('finds a message no longer among the newest 100, the match marked', async () => {
    page = await world.open('reader', '/r/attic?name=Reader');
    assert.equal(await page.locator('#messages li.message').count(), 100);
    assert.equal(await page.locator('#messages li.message[data-seq="7"]').count(), 0, 'message 7 is not in the conversation');
    await search(page, 'NEEDLE');
    assert.deepEqual(await results(page), [{ seq: 7, name: 'Ann', text: LOST, marks: ['Needle'] }]);
    await waitUntil(page, 'the conversation still at its newest message', () => {
      const l = document.getElementById('messages');
      return l.scrollHeight - l.scrollTop - l.clientHeight <= 2;
    });
    // User text stays text: the <b> in it is not an element.
    assert.equal(await page.locator('#search-list .text b').count(), 0);
    assert.equal(await page.locator('#search-status').textContent(), '1 message with “NEEDLE”, newest first.');
    // Case is ignored in names too, and every match in a result is marked.
    await search(page, 'an');
    const byName = await results(page);
    assert.ok(byName.length > 0 && byName.every((r) => r.name === 'Ann' && r.marks[0] === 'An'), JSON.stringify(byName.slice(0, 3)));
  });

  it('"Load more" pages back, newest first, to the first message', async () => {
    await search(page, 'old MESSAGE');
    const expected = Array.from({ length: OLD }, (_, i) => OLD - i).filter((seq) => seq !== 7);
    assert.deepEqual((await results(page)).map((r) => r.seq), expected.slice(0, 50));
    for (const shown of [100, 150, 159]) {
      await page.locator('#search-more').click();
      await waitUntil(page, `${shown} results`, (n) => document.querySelectorAll('#search-list li').length === n, shown);
    }
    const all = await results(page);
    assert.deepEqual(all.map((r) => r.seq), expected);
    assert.ok(all.every((r) => r.marks.length === 1 && r.marks[0] === 'old message'));
    assert.equal(await page.locator('#search-more').isHidden(), true, 'nothing more to load');
  });

  it('a result that is in the conversation scrolls it into view', async () => {
    await search(page, 'old message 61');
    assert.deepEqual((await results(page)).map((r) => r.seq), [61]);
    await page.locator('#search-list li[data-seq="61"] button').click();
    await waitUntil(page, 'message 61 marked and in view', () => {
      const li = document.querySelector('#messages li.message[data-seq="61"]');
      const list = document.getElementById('messages').getBoundingClientRect();
      const box = li.getBoundingClientRect();
      return li.classList.contains('found') && box.top >= list.top && box.bottom <= list.bottom;
    });
    await page.locator('#search-close').click();
    assert.equal(await page.locator('#search-results').isHidden(), true);
  });

  it('the export links download the history, named after the room and the day', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const [txt] = await Promise.all([page.waitForEvent('download'), page.locator('.export a', { hasText: 'text' }).click()]);
    assert.equal(txt.suggestedFilename(), `attic-${today}.txt`);
    const lines = readFileSync(await txt.path(), 'utf8').split('\n');
    assert.equal(lines.length, OLD + 1, 'a line per message, and the last one ends too');
    assert.equal(lines[6], `2025-01-15 10:06:00Z Ann: ${LOST}`);
    assert.equal(lines[OLD - 1], `2025-01-15 12:39:00Z Bob: old message ${OLD}`);

    const [html] = await Promise.all([page.waitForEvent('download'), page.locator('.export a', { hasText: 'web page' }).click()]);
    assert.equal(html.suggestedFilename(), `attic-${today}.html`);
    const doc = readFileSync(await html.path(), 'utf8');
    assert.ok(doc.includes('<span class="text">lost: the &lt;b&gt;Golden&lt;/b&gt; Needle &amp; thread</span>'));
    assert.ok(doc.endsWith(`<footer>${OLD} messages.</footer>\n</body>\n</html>\n`));

    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.locator('.export a', { hasText: 'JSON lines' }).click()]);
    assert.equal(jsonl.suggestedFilename(), `attic-${today}.jsonl`);
    assert.equal(readFileSync(await jsonl.path(), 'utf8'), historyLines(OLD, { startMs: START_MS, text }));
  });

  it('pages asked nothing of any other host and logged no errors', () => {
    world.assertCleanPages();
  });
});
