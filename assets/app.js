// chatroom's own page script. Small on purpose: htmx and its ws extension do the real work.
// Loaded as a file because the Content-Security-Policy forbids inline scripts.
(function () {
  'use strict';

  // Heartbeat: a text frame "ping" every 20 s; the server answers "pong" (not shown, as it is
  // not an HTML element). It keeps NATs and proxies from dropping an idle connection.
  var PING_MS = 20000;
  htmx.createWebSocket = function (url) {
    var socket = new WebSocket(url);
    var timer = setInterval(function () {
      if (socket.readyState === WebSocket.OPEN) socket.send('ping');
    }, PING_MS);
    socket.addEventListener('close', function () { clearInterval(timer); });
    return socket;
  };

  function $(id) { return document.getElementById(id); }

  function setStatus(state, text) {
    var el = $('status');
    if (!el) return;
    el.className = 'status ' + state;
    el.textContent = text;
  }

  // Keep the newest message in view, unless the reader has scrolled up to read older ones.
  var stickToBottom = true;
  document.addEventListener('DOMContentLoaded', function () {
    var list = $('messages');
    list.addEventListener('scroll', function () {
      stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    });
  });

  document.addEventListener('htmx:wsConnecting', function () { setStatus('connecting', 'connecting…'); });
  document.addEventListener('htmx:wsOpen', function () { setStatus('connected', 'connected'); });
  document.addEventListener('htmx:wsClose', function (e) {
    var code = e.detail && e.detail.event ? e.detail.event.code : 0;
    setStatus('reconnecting', code === 1012 ? 'server restarting, reconnecting…' : 'reconnecting…');
  });

  // ws-send does not clear the form: do it after each send, and keep the focus for the next line.
  document.addEventListener('htmx:wsAfterSend', function (e) {
    var form = e.target.closest ? e.target.closest('form') : null;
    if (!form) return;
    form.reset();
    var input = form.querySelector('input[name="message"]');
    if (input) input.focus();
  });

  var noticeTimer = null;
  document.addEventListener('htmx:wsAfterMessage', function () {
    var list = $('messages');
    if (list && stickToBottom) list.scrollTop = list.scrollHeight;
    // Notices fade out after a while.
    var notice = $('notice');
    if (notice && notice.textContent) {
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(function () {
        var n = $('notice');
        if (n) { n.textContent = ''; n.className = ''; }
      }, 6000);
    }
  });
})();
