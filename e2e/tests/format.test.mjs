// Links and code in messages, and the message box that writes them: links open in a new tab with
// the right rel, code shows as code (a block scrolls sideways on its own, even on a phone), the
// copy button copies (with the Clipboard API, and without it, as on a plain-HTTP LAN address),
// Shift+Enter starts a new line and Enter sends (but not during an input method's composition).

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { PHONE, World, send, waitForMessage, waitUntil } from '../lib/harness.mjs';

const BOX = '#send [name="message"]';
const LONG_LINE = 'const line = "' + 'x'.repeat(300) + '";';
const CODE = `for f in *.txt; do\n  wc -l "$f"\ndone\n${LONG_LINE}`;
const SAID = `try \`ls -l\` or this:\n\`\`\`sh\n${CODE}\n\`\`\``;
// What the page shows of it: the backticks and the fences' lines are not text.
const SHOWN = `try ls -l or this:${CODE}`;

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

/** The last message whose text is exactly `text`: a selector-free handle for evaluate. */
function lastMessage(page, text) {
  return page.evaluateHandle((text) => [...document.querySelectorAll('#messages li.message')]
    .reverse().find((li) => li.querySelector('.text').textContent === text), text);
}

describe('links and code in a real browser', { timeout: 90000 }, () => {
  const world = new World('format');
  let ann, bob, pia, cleo;

  before(() => world.start());
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('a link opens its URL in a new tab, with the right rel; other schemes are text', async () => {
    ann = await world.open('ann', '/r/code?name=Ann');
    bob = await world.open('bob', '/r/code?name=Bob', { permissions: ['clipboard-read', 'clipboard-write'] });
    // The link points at the test server itself, so that opening it needs no network.
    const url = `${world.origin}/healthz`;
    await send(ann, `status: ${url}. javascript:alert(1) data:text/html,hi`);
    await waitForMessage(bob, `status: ${url}. javascript:alert(1) data:text/html,hi`, 'Ann');

    const links = await bob.$$eval('#messages li.message .text a', (as) => as.map((a) => ({
      href: a.getAttribute('href'), rel: a.getAttribute('rel'), target: a.getAttribute('target'), text: a.textContent,
      color: getComputedStyle(a).color,
    })));
    assert.equal(links.length, 1, `one link only: ${JSON.stringify(links)}`);
    assert.deepEqual({ ...links[0], color: undefined },
      { href: url, rel: 'noopener noreferrer nofollow', target: '_blank', text: url, color: undefined });
    const background = await bob.$eval('#messages', (el) => getComputedStyle(el).backgroundColor);
    assert.ok(contrast(links[0].color, background) >= 4.5, `link ${links[0].color} on ${background}`);

    const [tab] = await Promise.all([
      bob.context().waitForEvent('page'),
      bob.locator('#messages li.message .text a').click(),
    ]);
    await tab.waitForLoadState('domcontentloaded');
    assert.equal(tab.url(), url);
    assert.equal((await tab.textContent('body')).trim(), 'ok');
    assert.equal(await tab.evaluate(() => window.opener), null, 'the new tab can reach back into the chat');
    await tab.close();
  });

  it('Shift+Enter starts a new line, Enter sends; the box grows and shrinks back', async () => {
    const box = ann.locator(BOX);
    await box.click();
    const oneLine = await box.evaluate((el) => el.getBoundingClientRect().height);
    await box.pressSequentially('first line');
    await box.press('Shift+Enter');
    await box.pressSequentially('second line');
    assert.equal(await box.inputValue(), 'first line\nsecond line');
    const twoLines = await box.evaluate((el) => el.getBoundingClientRect().height);
    assert.ok(twoLines > oneLine * 1.3, `the box did not grow: ${oneLine}px → ${twoLines}px`);

    await box.press('Enter');
    await waitForMessage(bob, 'first line\nsecond line', 'Ann');
    // Shown on two lines.
    const item = await lastMessage(bob, 'first line\nsecond line');
    const lines = await item.evaluate((li) => {
      const text = li.querySelector('.text');
      const range = document.createRange();
      range.selectNodeContents(text);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    assert.equal(lines, 2, 'the message is not shown on two lines');
    await waitUntil(ann, 'the box empty, focused and one line high again', ([selector, oneLine]) => {
      const el = document.querySelector(selector);
      return el.value === '' && document.activeElement === el && Math.abs(el.getBoundingClientRect().height - oneLine) < 1;
    }, [BOX, oneLine]);
  });

  it('Enter during an input method\'s composition does not send', async () => {
    await ann.locator(BOX).fill('日本');
    const outcome = await ann.evaluate((selector) => {
      const box = document.querySelector(selector);
      let submits = 0;
      box.form.addEventListener('submit', () => { submits++; });
      const enter = (isComposing) => box.dispatchEvent(new KeyboardEvent('keydown',
        { key: 'Enter', code: 'Enter', isComposing, bubbles: true, cancelable: true }));
      const composing = { notCancelled: enter(true), submits };
      const plain = { notCancelled: enter(false), submits };
      return { composing, plain };
    }, BOX);
    assert.deepEqual(outcome.composing, { notCancelled: true, submits: 0 }, 'Enter while composing was taken');
    assert.deepEqual(outcome.plain, { notCancelled: false, submits: 1 }, 'a plain Enter did not send');
    await waitForMessage(bob, '日本', 'Ann');
  });

  it('code shows as code: inline, and a block with its own sideways scroll, even on a phone', async () => {
    pia = await world.open('pia', '/r/code?name=Pia', { ...PHONE, colorScheme: 'dark' });
    await send(ann, SAID);
    for (const page of [bob, pia]) {
      await waitForMessage(page, SHOWN, 'Ann');
      const item = await lastMessage(page, SHOWN);
      const look = await item.evaluate((li) => {
        const inline = li.querySelector('.text > code');
        const pre = li.querySelector('.text > pre');
        const code = pre.querySelector('code');
        const button = pre.querySelector('button.copy');
        const style = (el, pseudo) => getComputedStyle(el, pseudo);
        return {
          inline: inline.textContent, inlineFont: style(inline).fontFamily,
          lang: pre.dataset.lang, code: code.textContent, codeFont: style(code).fontFamily,
          overflowX: style(code).overflowX, scrolls: code.scrollWidth > code.clientWidth,
          right: pre.getBoundingClientRect().right, width: window.innerWidth,
          label: style(button, '::before').content, buttonName: button.getAttribute('aria-label'),
          codeBackground: style(pre).backgroundColor,
          pageScrollWidth: document.documentElement.scrollWidth, pageWidth: document.documentElement.clientWidth,
          links: li.querySelectorAll('a').length,
        };
      });
      assert.equal(look.inline, 'ls -l');
      assert.match(look.inlineFont, /monospace/);
      assert.equal(look.lang, 'sh');
      assert.equal(look.code, CODE);
      assert.match(look.codeFont, /monospace/);
      assert.equal(look.overflowX, 'auto');
      assert.ok(look.scrolls, 'the long line should make the block scroll');
      assert.ok(look.right <= look.width, `the block sticks out: ${look.right} > ${look.width}`);
      assert.ok(look.pageScrollWidth <= look.pageWidth, `the page scrolls sideways (${look.pageScrollWidth} > ${look.pageWidth})`);
      assert.equal(look.label, '"Copy"');
      assert.equal(look.buttonName, 'Copy code');
      assert.notEqual(look.codeBackground, 'rgba(0, 0, 0, 0)', 'a code block has no background');
      assert.equal(look.links, 0, 'nothing in code is a link');
    }
  });

  it('the copy button copies the code, with the Clipboard API', async () => {
    await bob.locator('#messages li.message pre > button.copy').last().click();
    await waitUntil(bob, '"Copied" on the button', () => {
      const b = [...document.querySelectorAll('pre > button.copy')].pop();
      return b.dataset.copied === 'yes' && getComputedStyle(b, '::before').content === '"Copied"';
    });
    assert.equal(await bob.evaluate(() => navigator.clipboard.readText()), CODE);
    await waitUntil(bob, 'the button says "Copy" again', () => {
      const b = [...document.querySelectorAll('pre > button.copy')].pop();
      return !b.dataset.copied && b.getAttribute('aria-label') === 'Copy code';
    });
  });

  it('the copy button copies without the Clipboard API too (plain HTTP on a LAN)', async () => {
    cleo = await world.open('cleo', '/r/code?name=Cleo');
    // What a page on http://192.168.x.y gets: no navigator.clipboard outside a secure context.
    const copied = await cleo.evaluate(() => {
      Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
      window.copiedText = null;
      document.addEventListener('copy', () => { window.copiedText = String(window.getSelection()); });
      return navigator.clipboard === undefined;
    });
    assert.ok(copied);
    await waitForMessage(cleo, SHOWN, 'Ann');
    await cleo.locator('#messages li.message pre > button.copy').last().click();
    await waitUntil(cleo, 'the code copied by selection', (code) => window.copiedText === code, CODE);
    await waitUntil(cleo, '"Copied" on the button', () =>
      [...document.querySelectorAll('pre > button.copy')].pop().dataset.copied === 'yes');
  });

  it('pages asked nothing of any other host and logged no errors', () => {
    world.assertCleanPages();
  });
});
