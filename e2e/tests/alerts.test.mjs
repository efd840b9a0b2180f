// Being called and catching up: mentions, the unread count in a hidden page's title and icon,
// alerts by the per-browser setting, the "new since you left" divider, and the live room list.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { World, historyLines, send, waitForMessage, waitUntil, waitWelcome } from '../lib/harness.mjs';

const HOUR_AGO = Date.now() - 3600_000;

/** Makes the page believe it is hidden (another tab, a phone screen off), or visible again. */
function setHidden(page, hidden) {
  return page.evaluate((hidden) => {
    const state = hidden ? 'hidden' : 'visible';
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

/** Starts recording the page's alerts (the `chatroom:alert` events) in `window.alerts`. */
function recordAlerts(page) {
  return page.evaluate(() => {
    window.alerts = [];
    document.addEventListener('chatroom:alert', (e) => window.alerts.push(e.detail));
  });
}

const alerts = (page) => page.evaluate(() => window.alerts);
const icon = (page) => page.$eval('link[rel="icon"]', (l) => l.getAttribute('href'));

describe('being called and catching up', { timeout: 90000 }, () => {
  const world = new World('alerts', {
    // The study room has 80 old messages, so that its list scrolls.
    setup: (dir) => writeFileSync(join(dir, 'study.jsonl'), historyLines(80, { startMs: HOUR_AGO })),
    // Bob says much while Ann is away, faster than the default rate limit allows.
    serverArgs: ['--rate-limit', '0'],
  });
  let ann, bob;

  before(() => world.start());
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('a mention is marked, and a hidden page counts up in its title and icon, and alerts', async () => {
    ann = await world.open('ann', '/r/study?name=Ann');
    bob = await world.open('bob', '/r/study?name=Bob');
    await world.entry(ann).context.grantPermissions(['notifications']);
    await recordAlerts(ann);
    assert.equal(await ann.title(), '#study · chatroom');
    assert.equal(await ann.$eval('#alerts', (s) => s.value), 'mentions', 'mentions only, by default');
    // 127.0.0.1 is a secure context, where notifications may be offered: no "sound only" note.
    assert.equal(await ann.$eval('#alerts-note', (p) => p.textContent), '');

    await setHidden(ann, true);
    await send(bob, 'nothing for anyone');
    await waitForMessage(ann, 'nothing for anyone', 'Bob');
    await waitUntil(ann, 'one unread in the title', () => document.title === '(1) #study · chatroom');
    assert.equal(await icon(ann), '/assets/favicon-unread.svg');
    assert.deepEqual(await alerts(ann), [], 'no alert for a message that does not mention Ann');

    await send(bob, '@ann have a look');
    await waitForMessage(ann, '@ann have a look', 'Bob');
    await waitUntil(ann, 'two unread', () => document.title === '(2) #study · chatroom');
    await waitUntil(ann, 'an alert', () => window.alerts.length === 1);
    const [alert] = await alerts(ann);
    assert.equal(alert.name, 'Bob');
    assert.equal(alert.notification, true, 'a desktop notification, permission being granted');
    const marked = await ann.$$eval('#messages li.message.mention .text', (els) => els.map((e) => e.textContent));
    assert.deepEqual(marked, ['@ann have a look']);
    // Bob's page shows the same message, not marked: it does not mention Bob.
    assert.equal(await bob.locator('#messages li.message.mention').count(), 0);
    const looks = await ann.$$eval('#messages li.message', (lis) => lis.slice(-2).map((li) => getComputedStyle(li).backgroundColor));
    assert.notEqual(looks[0], looks[1], 'a mention looks different');

    // Seen again: the count and the dot go.
    await setHidden(ann, false);
    await waitUntil(ann, 'title back', () => document.title === '#study · chatroom');
    assert.equal(await icon(ann), '/assets/favicon.svg');
  });

  it('the setting chooses what alerts, and is kept in this browser', async () => {
    await ann.selectOption('#alerts', 'off');
    await setHidden(ann, true);
    await send(bob, '@Ann are you there?');
    await waitForMessage(ann, '@Ann are you there?', 'Bob');
    await waitUntil(ann, 'counted', () => document.title === '(1) #study · chatroom');
    assert.equal((await alerts(ann)).length, 1, 'off: no new alert');

    await ann.selectOption('#alerts', 'all');
    await send(bob, 'just chatting');
    await waitUntil(ann, 'an alert for any message', () => window.alerts.length === 2);
    await setHidden(ann, false);

    await ann.reload();
    await waitWelcome(ann);
    assert.equal(await ann.$eval('#alerts', (s) => s.value), 'all');
    await ann.selectOption('#alerts', 'mentions');
  });

  it('a page opened again shows what is new since it left, and starts there', async () => {
    const context = world.entry(ann).context;
    await ann.close();
    // More than a screenful, so that the view can start at the divider.
    for (let i = 1; i <= 30; i++) await send(bob, `while Ann was away ${i}`);
    await waitForMessage(bob, 'while Ann was away 30', 'Bob');

    ann = await world.openIn(context, 'ann-again', '/r/study?name=Ann');

    const after = await ann.$eval('#messages li.divider', (li) => li.nextElementSibling.querySelector('.text').textContent);
    assert.equal(after, 'while Ann was away 1');
    assert.equal(await ann.locator('#messages li.divider').count(), 1);
    // The view starts at the divider, not at the bottom.
    const view = await ann.$eval('#messages', (list) => {
      const divider = list.querySelector('li.divider');
      const top = divider.getBoundingClientRect().top - list.getBoundingClientRect().top;
      return { top, height: list.clientHeight, fromBottom: list.scrollHeight - list.scrollTop - list.clientHeight };
    });
    assert.ok(view.top >= -1 && view.top < 40, `the divider at the top of the view: ${JSON.stringify(view)}`);
    assert.ok(view.fromBottom > 40, `not at the bottom: ${JSON.stringify(view)}`);

    // Nothing new since: no divider on the next visit.
    await ann.reload();
    await waitWelcome(ann);
    assert.equal(await ann.locator('#messages li.divider').count(), 0);
  });

  it('the room list follows rooms and head counts without a reload', async () => {
    await ann.evaluate(() => { window.notReloaded = true; });
    await waitUntil(ann, 'this room marked as current', () =>
      document.querySelector('#rooms a[aria-current="page"]')?.textContent === '#study');
    const eve = await world.open('eve', '/r/garden?name=Eve');
    await waitUntil(ann, 'the garden listed with one person', () =>
      [...document.querySelectorAll('#rooms li')].some((li) =>
        li.querySelector('a')?.textContent === '#garden' && li.querySelector('.count')?.textContent === '1'));
    assert.equal(await ann.evaluate(() => window.notReloaded), true);
    assert.equal(await ann.$eval('#rooms a[aria-current="page"]', (a) => a.textContent), '#study');
    assert.equal(await eve.$eval('#rooms a[aria-current="page"]', (a) => a.textContent), '#garden');
  });

  it('pages asked nothing of any other host and logged no errors', () => {
    world.assertCleanPages();
  });
});
