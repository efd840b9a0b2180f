// Chatting: two pages in a room, a room next door, names and roster, history for latecomers,
// own messages, local times, the input after sending.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  World, messageTexts, roster, send, waitForMessage, waitForRoster, waitUntil,
} from '../lib/harness.mjs';

describe('chatting in a real browser', { timeout: 60000 }, () => {
  const world = new World('chat');
  let ann, bob, cleo;

  before(() => world.start());
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('two pages in the same room chat both ways, with their names and the roster', async () => {
    // Ann reads in Tokyo time, to check that times are shown in the reader's zone.
    ann = await world.open('ann', '/r/kitchen?name=Ann', { timezoneId: 'Asia/Tokyo' });
    bob = await world.open('bob', '/r/kitchen?name=Bob', { timezoneId: 'America/New_York' });

    assert.equal(await ann.textContent('#me'), 'Ann');
    assert.equal(await bob.textContent('#me'), 'Bob');
    await waitForRoster(ann, ['Ann', 'Bob']);
    await waitForRoster(bob, ['Ann', 'Bob']);
    // Ann saw Bob come in.
    await waitUntil(ann, 'Bob joined', () =>
      [...document.querySelectorAll('#messages li.event.join')].some((li) => li.textContent.includes('Bob')));

    await send(ann, 'hello from Ann <b>not bold</b> & co');
    await waitForMessage(bob, 'hello from Ann <b>not bold</b> & co', 'Ann');
    await waitForMessage(ann, 'hello from Ann <b>not bold</b> & co', 'Ann');
    assert.equal(await bob.locator('#messages li.message b:not(.name)').count(), 0, 'user text is not markup');

    await send(bob, 'hi Ann, Bob here');
    await waitForMessage(ann, 'hi Ann, Bob here', 'Bob');
    await waitForMessage(bob, 'hi Ann, Bob here', 'Bob');

    // Bob answers with the Send button too.
    await bob.locator('#send [name="message"]').fill('and with the button');
    await bob.locator('#send button[type="submit"]').click();
    await waitForMessage(ann, 'and with the button', 'Bob');

    assert.deepEqual(await messageTexts(ann), await messageTexts(bob));
    assert.deepEqual(await messageTexts(ann),
      ['hello from Ann <b>not bold</b> & co', 'hi Ann, Bob here', 'and with the button']);
  });

  it('after sending, the input is empty and still focused (Enter sends)', async () => {
    await send(ann, 'one more line');
    await waitForMessage(ann, 'one more line', 'Ann');
    const state = await ann.evaluate(() => {
      const input = document.querySelector('#send [name="message"]');
      return { value: input.value, focused: document.activeElement === input };
    });
    assert.deepEqual(state, { value: '', focused: true });
    await waitForMessage(bob, 'one more line', 'Ann');
  });

  it('own messages look different from the others', async () => {
    for (const [page, me] of [[ann, 'Ann'], [bob, 'Bob']]) {
      const items = await page.$$eval('#messages li.message', (lis) => lis.map((li) => ({
        name: li.dataset.name, own: li.classList.contains('own'), background: getComputedStyle(li).backgroundColor,
      })));
      for (const item of items) assert.equal(item.own, item.name === me, `${me}'s page: ${JSON.stringify(item)}`);
      const own = items.find((i) => i.own);
      const other = items.find((i) => !i.own);
      assert.notEqual(own.background, other.background, `${me}'s page: own and other messages look alike`);
    }
  });

  it('times are shown in the reader\'s time zone', async () => {
    for (const [page, zone] of [[ann, 'Asia/Tokyo'], [bob, 'America/New_York']]) {
      const times = await page.$$eval('#messages li time', (els) =>
        els.map((e) => ({ datetime: e.getAttribute('datetime'), text: e.textContent })));
      assert.ok(times.length >= 4);
      for (const { datetime, text } of times) {
        const local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
          .format(new Date(datetime));
        const utc = datetime.slice(11, 16);
        assert.ok(text.endsWith(local), `${zone}: ${datetime} shown as "${text}", expected local ${local}`);
        assert.ok(!text.includes('UTC') && local !== utc, `${zone}: "${text}" is still UTC`);
      }
    }
  });

  it('a room next door is isolated', async () => {
    cleo = await world.open('cleo', '/r/attic?name=Cleo');
    await waitForRoster(cleo, ['Cleo']);
    assert.deepEqual(await messageTexts(cleo), [], 'the attic has no kitchen history');

    await send(cleo, 'attic only');
    await waitForMessage(cleo, 'attic only', 'Cleo');
    await send(ann, 'kitchen only');
    await waitForMessage(bob, 'kitchen only', 'Ann');
    await send(cleo, 'attic again');
    await waitForMessage(cleo, 'attic again', 'Cleo');
    // One more round trip in the kitchen, after Cleo's last message was relayed.
    await send(bob, 'kitchen again');
    await waitForMessage(ann, 'kitchen again', 'Bob');

    assert.deepEqual(await messageTexts(cleo), ['attic only', 'attic again']);
    for (const page of [ann, bob]) {
      const texts = await messageTexts(page);
      assert.ok(!texts.some((t) => t.startsWith('attic')), `attic messages leaked into the kitchen: ${texts}`);
    }
    assert.deepEqual(await roster(ann), ['Ann', 'Bob']);
    assert.deepEqual(await roster(cleo), ['Cleo']);
    // The room list shows the kitchen, which had people when this page was rendered.
    const rooms = await cleo.$$eval('#rooms a', (as) => as.map((a) => a.textContent));
    assert.ok(rooms.includes('#kitchen'), `room list: ${rooms}`);
  });

  it('a page opened later shows the history, and the others see it join', async () => {
    const before = await messageTexts(ann);
    const dan = await world.open('dan', '/r/kitchen?name=Dan');
    assert.deepEqual(await messageTexts(dan), before);
    const seqs = await dan.$$eval('#messages li.message', (lis) => lis.map((li) => Number(li.dataset.seq)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'history is in order');
    await waitForRoster(dan, ['Ann', 'Bob', 'Dan']);
    await waitForRoster(ann, ['Ann', 'Bob', 'Dan']);
    await send(dan, 'Dan was here');
    await waitForMessage(ann, 'Dan was here', 'Dan');
    await waitForMessage(bob, 'Dan was here', 'Dan');
    // A second "Dan" is told the name is taken, and gets another.
    const dan2 = await world.open('dan-2', '/r/kitchen?name=dan');
    const me = await dan2.textContent('#me');
    assert.notEqual(me.toLowerCase(), 'dan');
    assert.match(await dan2.textContent('#notice'), /taken/);
  });

  it('pages asked nothing of any other host and logged no errors', () => {
    world.assertCleanPages();
  });
});
