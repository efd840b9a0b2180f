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

  // Times arrive in UTC (<time datetime="...Z">); show them in the reader's own time zone.
  function localizeTimes(root) {
    var now = new Date();
    (root || document).querySelectorAll('time[datetime]:not([data-local])').forEach(function (el) {
      var when = new Date(el.getAttribute('datetime'));
      if (isNaN(when)) return;
      var sameDay = when.toDateString() === now.toDateString();
      var time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      el.textContent = sameDay ? time : when.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + time;
      el.title = when.toLocaleString();
      el.setAttribute('data-local', '');
    });
  }

  // Names are unique within a room, so "mine" is every message carrying my name.
  function markOwn(root) {
    var me = $('me');
    var mine = me ? me.getAttribute('data-name') : null;
    if (!mine) return;
    (root || document).querySelectorAll('#messages li.message').forEach(function (li) {
      li.classList.toggle('own', li.getAttribute('data-name') === mine);
    });
  }

  // Keep the newest message in view, unless the reader has scrolled up to read older ones.
  // (A capturing listener, because the list element itself is replaced on every reconnect.)
  var stickToBottom = true;
  document.addEventListener('scroll', function (e) {
    if (e.target && e.target.id === 'messages') {
      var list = e.target;
      stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    }
  }, true);

  function scrollToNewest() {
    var list = $('messages');
    if (list && stickToBottom) list.scrollTop = list.scrollHeight;
  }

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
    localizeTimes();
    markOwn();
    scrollToNewest();
    // Notices go away after a while.
    var notice = $('notice');
    if (notice && notice.textContent) {
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(function () {
        var n = $('notice');
        if (n) { n.textContent = ''; n.className = ''; }
      }, 8000);
    }
  });

  // "Load older messages" prepends a page: keep what the reader was looking at in place.
  var heightBefore = 0;
  document.addEventListener('htmx:beforeSwap', function (e) {
    if (e.detail.target && e.detail.target.id === 'more') heightBefore = $('messages').scrollHeight;
  });
  document.addEventListener('htmx:afterSwap', function (e) {
    var list = $('messages');
    if (!list || !heightBefore) return;
    list.scrollTop += list.scrollHeight - heightBefore;
    heightBefore = 0;
    localizeTimes(list);
    markOwn(list);
  });

  document.addEventListener('DOMContentLoaded', function () {
    localizeTimes();
    var notice = $('notice');
    if (notice && notice.textContent) {
      noticeTimer = setTimeout(function () { notice.textContent = ''; notice.className = ''; }, 8000);
    }
  });
})();
