// Code blocks: the copy button. The server writes each block as
// <pre><button class="copy" aria-label="Copy code"></button><code>...</code></pre> (see
// src/protocol/format.rs); one listener on the document serves every button, those of messages
// that arrive later too. The button's text comes from the style sheet, by its data-copied state.
//
// The Clipboard API exists only in a secure context (HTTPS, or localhost): on a plain-HTTP LAN
// address there is none, so the code is selected and copied with execCommand('copy'), which
// still works there from a click. If even that fails, the code stays selected for the reader to
// copy by hand.
(function () {
  'use strict';

  var SHOWN_MS = 1500; // how long "Copied" stays
  var LABEL = 'Copy code';
  var timers = new WeakMap();

  function selectAndCopy(code) {
    var selection = window.getSelection();
    var range = document.createRange();
    range.selectNodeContents(code);
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try {
      copied = document.execCommand('copy');
    } catch (err) {
      copied = false;
    }
    if (copied) selection.removeAllRanges();
    return copied;
  }

  function copy(code) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(code.textContent).then(
        function () { return true; },
        function () { return selectAndCopy(code); });
    }
    return Promise.resolve(selectAndCopy(code));
  }

  function show(button, copied) {
    button.setAttribute('data-copied', copied ? 'yes' : 'no');
    button.setAttribute('aria-label', copied ? 'Copied' : 'Code selected: copy it with your keyboard or menu');
    clearTimeout(timers.get(button));
    timers.set(button, setTimeout(function () {
      button.removeAttribute('data-copied');
      button.setAttribute('aria-label', LABEL);
    }, SHOWN_MS));
  }

  document.addEventListener('click', function (e) {
    var button = e.target.closest ? e.target.closest('pre > button.copy') : null;
    var code = button ? button.parentNode.querySelector('code') : null;
    if (!code) return;
    copy(code).then(function (copied) { show(button, copied); });
  });
})();
