// The message box: a text area, so that a message can hold several lines (a code block needs
// them). Enter sends and Shift+Enter starts a new line; while an input method is composing
// (Japanese, Chinese, Korean...), Enter only confirms the composition. The box grows with its
// text up to a few lines (the style sheet's `field-sizing: content`, or this script where the
// browser lacks it), then scrolls. Loaded as a file: the Content-Security-Policy forbids inline
// scripts.
(function () {
  'use strict';

  var SELECTOR = '#send textarea[name="message"]';
  var SIZED_BY_CSS = !!(window.CSS && CSS.supports && CSS.supports('field-sizing', 'content'));

  function messageBox(el) {
    return el && el.matches && el.matches(SELECTOR) ? el : null;
  }

  // Without `field-sizing`, as tall as its text (the style sheet's max-height stops it).
  // Setting a property of `style` from a script is allowed by the CSP; a style attribute is not.
  function fit(box) {
    if (SIZED_BY_CSS || !box) return;
    box.style.height = 'auto';
    box.style.height = box.scrollHeight + (box.offsetHeight - box.clientHeight) + 'px';
  }

  document.addEventListener('keydown', function (e) {
    var box = messageBox(e.target);
    if (!box || e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    // An input method's Enter: isComposing, or keyCode 229 where the composition ends before
    // the keydown is seen (Safari).
    if (e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    var form = box.form;
    if (!form) return;
    // Submitting checks the form first, as Enter in a one-line input did: an empty box is not sent.
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      var button = form.querySelector('[type="submit"]');
      if (button) button.click();
    }
  });

  document.addEventListener('input', function (e) { fit(messageBox(e.target)); });

  // After a send, app.js empties the form; keep the focus in the box, one line high again.
  document.addEventListener('htmx:wsAfterSend', function (e) {
    var form = e.target.closest ? e.target.closest('form') : null;
    var box = form ? form.querySelector(SELECTOR) : null;
    if (!box) return;
    fit(box);
    box.focus();
  });
})();
