// The page on a phone and on a desktop, in light and dark mode: it fits, the controls are
// reachable, the colours follow the system, the connection indicator and the notices work.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { DESKTOP, PHONE, World, send, waitForMessage, waitUntil } from '../lib/harness.mjs';

const LAYOUTS = [
  { name: 'phone-light', who: 'Pia', device: PHONE, colorScheme: 'light' },
  { name: 'phone-dark', who: 'Paul', device: PHONE, colorScheme: 'dark' },
  { name: 'desktop-light', who: 'Dora', device: DESKTOP, colorScheme: 'light' },
  { name: 'desktop-dark', who: 'Dirk', device: DESKTOP, colorScheme: 'dark' },
];

/** Relative luminance (0 black … 1 white) of a computed `rgb(...)` colour. */
function luminance(rgb) {
  const [r, g, b] = rgb.match(/[\d.]+/g).slice(0, 3).map(Number).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Where things are and how they look, measured in the page. */
function measure(page) {
  return page.evaluate(() => {
    const box = (sel) => {
      const el = document.querySelector(sel);
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height, onTop: el === hit || el.contains(hit) };
    };
    const style = (sel) => getComputedStyle(document.querySelector(sel));
    return {
      viewport: { width: window.innerWidth, height: window.innerHeight },
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      bodyScrollWidth: document.body.scrollWidth,
      input: box('#send [name="message"]'),
      button: box('#send button[type="submit"]'),
      status: box('#status'),
      messages: box('#messages'),
      background: style('body').backgroundColor,
      color: style('body').color,
      listBackground: style('#messages').backgroundColor,
      ownBackground: document.querySelector('#messages li.own') ? getComputedStyle(document.querySelector('#messages li.own')).backgroundColor : null,
      statusColor: style('#status').color,
      statusBackground: style('#status').backgroundColor,
    };
  });
}

function assertVisible(m, what, name) {
  const b = m[what];
  assert.ok(b.width > 0 && b.height > 0, `${name}: ${what} has no size`);
  assert.ok(b.top >= 0 && b.bottom <= m.viewport.height && b.left >= 0 && b.right <= m.viewport.width,
    `${name}: ${what} is not inside the viewport: ${JSON.stringify(b)} in ${JSON.stringify(m.viewport)}`);
  assert.ok(b.onTop, `${name}: ${what} is covered by something`);
}

describe('the page on phones and desktops, light and dark', { timeout: 60000 }, () => {
  const world = new World('looks');
  const pages = {};

  before(() => world.start());
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('fits a phone (390x844) and a desktop (1280x800), in light and dark mode', async () => {
    for (const { name, who, device, colorScheme } of LAYOUTS) {
      pages[name] = await world.open(name, `/r/looks?name=${who}`, { ...device, colorScheme });
    }
    // Some conversation, with a long unbroken word that must wrap rather than widen the page.
    await send(pages['desktop-light'], 'Good morning! Anyone up for lunch at noon?');
    await waitForMessage(pages['phone-light'], 'Good morning! Anyone up for lunch at noon?');
    await send(pages['phone-light'], 'Yes — the café on the corner? https://example.invalid/a/very/long/link/that/does/not/break/anywhere/at/all/0123456789');
    await waitForMessage(pages['desktop-dark'], 'Yes — the café on the corner? https://example.invalid/a/very/long/link/that/does/not/break/anywhere/at/all/0123456789');
    await send(pages['desktop-dark'], 'Count me in.');
    await send(pages['phone-dark'], 'Me too, see you there');
    for (const page of Object.values(pages)) {
      await waitForMessage(page, 'Count me in.');
      await waitForMessage(page, 'Me too, see you there');
    }

    for (const { name, colorScheme } of LAYOUTS) {
      const m = await measure(pages[name]);
      assert.ok(m.scrollWidth <= m.clientWidth && m.bodyScrollWidth <= m.clientWidth,
        `${name}: scrolls sideways (${m.scrollWidth} > ${m.clientWidth})`);
      assertVisible(m, 'input', name);
      assertVisible(m, 'button', name);
      assertVisible(m, 'status', name);
      assert.ok(m.messages.height >= m.viewport.height * 0.35, `${name}: the message list is only ${m.messages.height}px high`);
      if (colorScheme === 'dark') {
        assert.ok(luminance(m.background) < 0.05, `${name}: background ${m.background} is not dark`);
      } else {
        assert.ok(luminance(m.background) > 0.8, `${name}: background ${m.background} is not light`);
      }
      assert.ok(contrast(m.color, m.background) >= 7, `${name}: text ${m.color} on ${m.background}`);
      const statusBg = /rgba\(.*, 0\)$/.test(m.statusBackground) ? m.background : m.statusBackground;
      assert.ok(contrast(m.statusColor, statusBg) >= 4.5, `${name}: status ${m.statusColor} on ${statusBg}`);
      assert.ok(m.ownBackground && m.ownBackground !== m.listBackground, `${name}: own messages do not stand out`);
      assert.equal(await pages[name].textContent('#status'), 'connected');
    }
  });

  it('an error notice is shown, then goes away (phone, dark; desktop, light)', async () => {
    // Both at once: the notice stays for a few seconds.
    await Promise.all(['phone-dark', 'desktop-light'].map(async (name) => {
      const page = pages[name];
      const input = page.locator('#send [name="message"]');
      // The input stops at 2,000 characters; without that limit the server refuses the message.
      await input.evaluate((el) => el.removeAttribute('maxlength'));
      await send(page, 'x'.repeat(2001));
      await waitUntil(page, 'an error notice', () => {
        const n = document.getElementById('notice');
        return n.classList.contains('error') && n.textContent.trim().length > 0;
      });
      const notice = await page.evaluate(() => {
        const n = document.getElementById('notice');
        const r = n.getBoundingClientRect();
        const s = getComputedStyle(n);
        return { text: n.textContent, height: r.height, top: r.top, bottom: r.bottom, color: s.color, background: s.backgroundColor,
          visibility: s.visibility, display: s.display, viewport: window.innerHeight, scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth };
      });
      assert.match(notice.text, /2,?000/);
      assert.ok(notice.height > 10 && notice.top >= 0 && notice.bottom <= notice.viewport, `${name}: notice not in view: ${JSON.stringify(notice)}`);
      assert.ok(notice.display !== 'none' && notice.visibility === 'visible');
      assert.ok(contrast(notice.color, notice.background) >= 4.5, `${name}: notice ${notice.color} on ${notice.background}`);
      assert.ok(notice.scrollWidth <= notice.clientWidth, `${name}: the notice widens the page`);
      await world.screenshot(page, `notice-shown--${name}`);
      // Nothing was sent, and the input and button are still in view.
      assert.equal(await page.locator('#messages li.message .text', { hasText: 'xxxxxxxxxx' }).count(), 0);
      const m = await measure(page);
      assertVisible(m, 'input', name);
      assertVisible(m, 'button', name);
      await waitUntil(page, 'the notice gone', () => document.getElementById('notice').textContent.trim() === '',
        undefined, 10000);
      await input.evaluate((el) => el.setAttribute('maxlength', '2000'));
    }));
  });

  it('on a phone, the name box and the room list open within the screen', async () => {
    const page = pages['phone-light'];
    await page.locator('.whoami summary').click();
    const rename = page.locator('.rename input[name="name"]');
    await rename.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await rename.inputValue(), 'Pia');
    let m = await measure(page);
    const box = await page.locator('.rename').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= m.viewport.width, `the name box sticks out: ${JSON.stringify(box)}`);
    assert.ok(m.scrollWidth <= m.clientWidth);
    await world.screenshot(page, 'phone-name-box-open');
    await page.locator('.whoami summary').click();
    await rename.waitFor({ state: 'hidden', timeout: 5000 });

    const go = page.locator('#go-room input[name="room"]');
    assert.equal(await go.isVisible(), false, 'the room list starts folded on a phone');
    await page.locator('#rooms-box summary').click();
    await go.waitFor({ state: 'visible', timeout: 5000 });
    await go.scrollIntoViewIfNeeded();
    m = await measure(page);
    assert.ok(m.scrollWidth <= m.clientWidth);
    await world.screenshot(page, 'phone-rooms-open');
    await page.locator('#rooms-box summary').click();
    await go.waitFor({ state: 'hidden', timeout: 5000 });
    // On a desktop the room list is open beside the chat.
    assert.equal(await pages['desktop-light'].locator('#go-room input[name="room"]').isVisible(), true);
  });

  it('pages asked nothing of any other host and logged no errors', () => {
    world.assertCleanPages();
  });
});
