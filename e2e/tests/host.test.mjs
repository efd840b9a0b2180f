// The host and the people: the host link gives working controls and a pupil's page shows none;
// a pupil edits (Up arrow) and deletes their own message; /msg reaches one page and not another;
// the host's kick, lock and banner work from the page, and a removed or locked-out page says why
// and stays away; the rename box renames over the WebSocket (/nick), and the new name sticks.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { World, messageTexts, send, waitForMessage, waitForRoster, waitUntil } from '../lib/harness.mjs';

const KEY = 'teacher-key-0123456789';

describe('the host and the people in a real browser', { timeout: 90000 }, () => {
  const world = new World('host', { serverArgs: ['--host-key', KEY] });
  let teacher, ann, bob;

  before(() => world.start());
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('the host link gives the host controls, and a pupil sees none', async () => {
    teacher = await world.open('teacher', `/host?key=${KEY}`);
    ann = await world.open('ann', '/?name=Ann');
    bob = await world.open('bob', '/?name=Bob');
    await waitForRoster(teacher, ['Ann', 'Bob', teacher && (await teacher.textContent('#me'))]);
    await send(ann, 'hello class');
    await waitForMessage(teacher, 'hello class', 'Ann');
    await waitForMessage(bob, 'hello class', 'Ann');
    assert.equal(await teacher.isVisible('#host-tools'), true, 'the host has the tools');
    await waitUntil(teacher, 'kick and mute on the roster', () =>
      document.querySelectorAll('#roster li button[data-command^="/kick "]').length === 2);
    assert.equal(await teacher.locator('#messages li.message button[data-command^="/delete "]').count(), 1);
    // Bob, a pupil: no tools, no roster actions, and nothing to do with Ann's message.
    assert.equal(await bob.isVisible('#host-tools'), false);
    assert.equal(await bob.locator('#roster button').count(), 0);
    assert.equal(await bob.locator('#messages li.message button').count(), 0);
    // Ann may edit and delete her own message, and no one else's.
    assert.equal(await ann.locator('#messages li.message.own button').count(), 2);
  });

  it('a pupil edits their last message with the Up arrow, and deletes one', async () => {
    const input = ann.locator('#send [name="message"]');
    await input.click();
    await input.press('ArrowUp');
    await waitUntil(ann, 'the edit in the box', () =>
      /^\/edit \d+ hello class$/.test(document.querySelector('#send [name="message"]').value));
    await input.fill((await input.inputValue()).replace('hello class', 'hello, class!'));
    await input.press('Enter');
    for (const page of [ann, bob, teacher]) {
      await waitForMessage(page, 'hello, class!', 'Ann');
      await waitUntil(page, 'the edited mark', () =>
        [...document.querySelectorAll('#messages li.message')].some((li) => li.querySelector('.edited')?.textContent === 'edited'));
    }
    await send(ann, 'oops, wrong room');
    await waitForMessage(bob, 'oops, wrong room', 'Ann');
    ann.once('dialog', (d) => d.accept());
    await ann.locator('#messages li.message.own', { hasText: 'oops' }).locator('button', { hasText: 'delete' }).click();
    for (const page of [ann, bob, teacher]) {
      await waitUntil(page, 'the message gone', () =>
        ![...document.querySelectorAll('#messages li.message .text')].some((e) => e.textContent.includes('oops')));
    }
    assert.deepEqual(await messageTexts(bob), ['hello, class!']);
  });

  it('a private message reaches one page and not the other', async () => {
    await send(ann, '/msg Bob see me after class');
    for (const page of [ann, bob]) {
      await waitUntil(page, 'the private message', () =>
        [...document.querySelectorAll('#messages li.direct')].some((li) =>
          li.textContent.includes('see me after class') && li.textContent.includes('never saved')));
    }
    await send(ann, 'and this is for everyone');
    await waitForMessage(teacher, 'and this is for everyone', 'Ann');
    assert.equal(await teacher.locator('#messages li.direct').count(), 0, 'the host does not see it either');
  });

  it('the host deletes, announces, locks and kicks from the page', async () => {
    teacher.once('dialog', (d) => d.accept());
    await teacher.locator('#messages li.message', { hasText: 'for everyone' }).locator('button', { hasText: 'delete' }).click();
    await waitUntil(bob, 'the host deleted it', () =>
      ![...document.querySelectorAll('#messages li.message .text')].some((e) => e.textContent.includes('for everyone')));
    teacher.once('dialog', (d) => d.accept('Test at 10: phones away'));
    await teacher.locator('#host-tools button', { hasText: 'Banner' }).click();
    await waitUntil(bob, 'the banner', () => {
      const banner = document.getElementById('announce');
      return !banner.hidden && banner.textContent === 'Test at 10: phones away';
    });
    await teacher.locator('#host-tools button', { hasText: 'Lock' }).first().click();
    await waitUntil(bob, 'the lock told', () => document.querySelector('#messages li.moderation')?.textContent.includes('locked'));
    // A newcomer is turned away with the reason, and the page says so.
    const late = await world.browser.newContext();
    const page = await late.newPage();
    const entry = { name: 'late', page, context: late, requests: [], errors: [], badResponses: [], excused: [] };
    page.on('console', (m) => { if (m.type() === 'error') entry.errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => entry.errors.push(`pageerror: ${e.message}`));
    page.on('websocket', (ws) => entry.requests.push(ws.url()));
    late.on('request', (r) => entry.requests.push(r.url()));
    world.pages.push(entry);
    await page.goto(world.origin + '/?name=Late');
    await waitUntil(page, 'the locked notice', () =>
      document.getElementById('status').textContent === 'the room is locked' &&
      document.getElementById('notice').textContent.includes('#lobby is locked'));
    // The host removes Bob: his page says why and stays disconnected.
    bob.once('dialog', () => assert.fail('no dialog on the pupil page'));
    teacher.once('dialog', (d) => d.accept());
    await teacher.locator('#roster li[data-name="Bob"] button', { hasText: 'kick' }).click();
    await waitUntil(bob, 'removed', () =>
      document.getElementById('status').textContent === 'removed by the host' &&
      document.getElementById('notice').textContent.includes('removed from #lobby by the host'));
    await waitUntil(ann, 'Bob gone', () => document.querySelector('#roster li[data-name="Bob"]') === null);
    assert.equal(entry.requests.filter((u) => u.startsWith('ws:')).length, 1, 'the locked-out page tried once');
  });

  it('the rename box gives a new name without a reload, and it sticks', async () => {
    await ann.evaluate(() => { window.notReloaded = true; });
    await ann.locator('.whoami summary').click();
    await ann.locator('.rename input[name="name"]').fill('Ms Ann');
    await ann.locator('.rename button[type="submit"]').click();
    await waitUntil(teacher, 'the change told', () =>
      [...document.querySelectorAll('#messages li.rename')].some((li) => li.textContent.includes('Ann is now Ms Ann')));
    await waitForRoster(teacher, ['Ms Ann', await teacher.textContent('#me')]);
    await waitUntil(ann, 'my new name', () => document.getElementById('me').getAttribute('data-name') === 'Ms Ann');
    assert.equal(await ann.evaluate(() => window.notReloaded), true, 'renamed over the WebSocket, not by a reload');
    assert.equal(new URL(ann.url()).searchParams.get('name'), 'Ms Ann', 'the address carries the new name');
    // Mentions follow the name.
    await send(teacher, '@Ms Ann please stay after class');
    await waitUntil(ann, 'the mention marked', () =>
      [...document.querySelectorAll('#messages li.message.mention')].some((li) => li.textContent.includes('stay after class')));
    await send(ann, 'ok');
    await waitForMessage(teacher, 'ok', 'Ms Ann');
    // Another page of the same browser, with no name in its address, is Ms Ann too (the cookie).
    const other = await world.openIn(world.entry(ann).context, 'ann-elsewhere', '/r/kitchen');
    assert.equal(await other.getAttribute('#me', 'data-name'), 'Ms Ann');
    await other.close();
  });

  it('pages asked nothing of any other host and logged no errors', () => {
    world.assertCleanPages();
  });
});
