// Sharing files from the page: a pasted picture shows in the other page as a thumbnail, a dropped
// PDF arrives as a card that downloads it, a big file shows its progress, and one over the limit
// is refused with a clear error before anything is sent.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';

import { World, waitUntil } from '../lib/harness.mjs';

// A real 1×1 PNG, so that the browser can draw the thumbnail.
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const MAX_UPLOAD = 21_000_000;

/** Makes a File in the page: `base64` bytes, or `size` bytes of zeros. */
function fileScript() {
  window.makeFile = (name, type, base64, size) => {
    const bytes = base64 ? Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)) : new Uint8Array(size);
    return new File([bytes], name, { type });
  };
}

/** Waits until the newest message from `name` shares the file `file`; returns its link's class, href and text. */
function waitForFile(page, name, file) {
  return waitUntil(page, `${file} from ${name}`, ([name, file]) => {
    const items = [...document.querySelectorAll('#messages li.message')].filter((li) => li.dataset.name === name);
    const link = items.at(-1)?.querySelector('a.file');
    const shown = link && (link.querySelector('img')?.alt ?? link.querySelector('.file-name')?.textContent);
    return shown === file && { className: link.className, href: link.getAttribute('href'), text: link.textContent };
  }, [name, file]).then((handle) => handle.jsonValue());
}

describe('sharing files', { timeout: 120000 }, () => {
  const world = new World('files', { serverArgs: ['--max-upload', String(MAX_UPLOAD)] });
  let ann, bob;

  before(async () => {
    await world.start();
    ann = await world.open('ann', '/r/share?name=Ann');
    bob = await world.open('bob', '/r/share?name=Bob');
    await ann.evaluate(fileScript);
  });
  afterEach((t) => world.screenshots(t.name));
  after(() => world.close());

  it('a pasted picture shows in the other page, and opens full size', async () => {
    await ann.evaluate((png) => {
      const data = new DataTransfer();
      data.items.add(window.makeFile('screenshot.png', 'image/png', png));
      document.querySelector('#send [name="message"]').dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, PNG_1X1);
    const link = await waitForFile(bob, 'Ann', 'screenshot.png');
    assert.equal(link.className, 'file picture');
    assert.match(link.href, /^\/files\/[0-9a-f]{64}\/screenshot\.png$/);
    await waitUntil(bob, 'the thumbnail drawn', () => {
      const img = document.querySelector('#messages a.file.picture img');
      return img && img.complete && img.naturalWidth === 1 && img.getAttribute('loading') === 'lazy';
    });
    const full = await bob.request.get(world.origin + link.href);
    assert.equal(full.headers()['content-type'], 'image/png');
    assert.equal(full.headers()['content-disposition'], 'inline; filename="screenshot.png"');
    // Nothing was typed into the message box by the paste.
    assert.equal(await ann.$eval('#send [name="message"]', (i) => i.value), '');
  });

  it('a dropped PDF arrives as a card that downloads it', async () => {
    const pdf = Buffer.from('%PDF-1.4\n% a small test document\n%%EOF\n').toString('base64');
    await ann.evaluate((pdf) => {
      const data = new DataTransfer();
      data.items.add(window.makeFile('report ✓.pdf', 'application/pdf', pdf));
      const chat = document.getElementById('chat');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        chat.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      }
    }, pdf);
    const link = await waitForFile(bob, 'Ann', 'report ✓.pdf');
    assert.equal(link.className, 'file card');
    assert.match(link.text, /report ✓\.pdf/);
    assert.match(link.text, /bytes/);
    const [download] = await Promise.all([bob.waitForEvent('download'), bob.click('#messages a.file.card >> nth=-1')]);
    assert.equal(download.suggestedFilename(), 'report ✓.pdf');
    assert.equal(readFileSync(await download.path(), 'latin1'), Buffer.from(pdf, 'base64').toString('latin1'));
  });

  it('the progress bar moves for a 20 MB file', async () => {
    // Loopback moves 20 MB in a fraction of a second, which may be one progress event or none: the
    // upload is held to 8 MiB/s (Chrome's network emulation), so that it takes a few seconds.
    const cdp = await ann.context().newCDPSession(ann);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * 1024 * 1024,
    });
    // Record what the bar shows at every progress event, read just after the page's own handler
    // (listeners run in the order they were added, and the page sets its handler before send).
    // Not by animation frames: a page in the background gets none.
    await ann.evaluate(() => {
      window.progressSeen = [];
      const send = XMLHttpRequest.prototype.send;
      XMLHttpRequest.prototype.send = function (body) {
        this.upload.addEventListener('progress', () => {
          if (!document.getElementById('upload').hidden) {
            window.progressSeen.push(document.getElementById('upload-progress').value);
          }
        });
        return send.call(this, body);
      };
    });
    await ann.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(window.makeFile('big.bin', 'application/octet-stream', null, 20_000_000));
      const input = document.getElementById('attach-input');
      input.files = data.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const link = await waitForFile(bob, 'Ann', 'big.bin');
    assert.match(link.text, /19\.1 MiB/);
    await waitUntil(ann, 'the bar hidden again', () => document.getElementById('upload').hidden);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
    });
    await cdp.detach();
    const seen = await ann.evaluate(() => window.progressSeen);
    assert.ok(seen.some((v) => v > 0 && v < 1), `the bar showed a value between 0 and 1: ${seen}`);
    assert.ok(new Set(seen).size >= 2, `the bar moved: ${seen}`);
  });

  it('a file over the limit is refused with a clear error, and nothing is sent', async () => {
    const sent = world.entry(ann).requests.length;
    await ann.evaluate((size) => {
      const data = new DataTransfer();
      data.items.add(window.makeFile('huge.iso', 'application/octet-stream', null, size));
      const input = document.getElementById('attach-input');
      input.files = data.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, MAX_UPLOAD + 1_000_000);
    await waitUntil(ann, 'the error notice', () => {
      const notice = document.getElementById('notice');
      return notice.classList.contains('error') && /huge\.iso.* too large to share: 21\.0 MiB, and at most 20\.0 MiB/.test(notice.textContent);
    });
    await world.screenshot(ann, 'too big');
    assert.equal(world.entry(ann).requests.length, sent, 'no request was made');
  });

  it('every request went to the test server and nothing logged an error', () => world.assertCleanPages());
});
