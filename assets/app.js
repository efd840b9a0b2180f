// chatroom's own page script. Small on purpose: htmx and its ws extension do the real work.
// Loaded as a file because the Content-Security-Policy forbids inline scripts.
//
// What it adds: a heartbeat, the connection indicator, local times, marking one's own messages
// and the current room in the live room list, keeping the newest message in view (or the first
// one that is new since the reader left), clearing the input after sending, notices that go away,
// and keeping the reader's place when older messages are loaded.
(function () {
  'use strict';

  // Heartbeat: a text frame "ping" every 20 s; the server answers "pong" (not shown, as it is
  // not an HTML element). It keeps NATs and proxies from dropping an idle connection.
  // Every (re)connection asks for the name the page has now (#me: /nick may have changed it), not
  // the one the page was loaded with.
  var PING_MS = 20000;
  htmx.createWebSocket = function (url) {
    var me = $('me');
    if (me && me.getAttribute('data-name')) {
      var current = new URL(url, location.href);
      current.searchParams.set('name', me.getAttribute('data-name'));
      url = current.toString();
    }
    var socket = new WebSocket(url);
    var timer = setInterval(function () {
      if (socket.readyState === WebSocket.OPEN) socket.send('ping');
    }, PING_MS);
    socket.addEventListener('close', function () { clearInterval(timer); });
    return socket;
  };

  // Reconnect back-off: 0.5–1 s, then 1–2 s, 2–4 s … up to 8–16 s. Half of it fixed, so that a
  // restarting server has a moment to come back before the first try; half random, so that a
  // room full of pages does not come back in the same millisecond.
  htmx.config.wsReconnectDelay = function (retry) {
    var ceiling = 1000 * Math.pow(2, Math.min(retry, 4));
    return ceiling / 2 + Math.random() * ceiling / 2;
  };

  var NOTICE_MS = 6000; // how long a notice stays
  var RETRIED_BY_HTMX = [1006, 1011, 1012, 1013]; // close codes after which the ws extension reconnects

  function $(id) { return document.getElementById(id); }

  // The connection indicator, from the ws extension's events.
  function setStatus(state, text) {
    var el = $('status');
    if (!el) return;
    el.className = 'status ' + state;
    el.textContent = text;
  }

  var ownRetries = 0;
  document.addEventListener('htmx:wsConnecting', function () {
    var el = $('status');
    // Keep saying "reconnecting" while retrying; "connecting" is for the first time only.
    if (el && !/reconnecting/.test(el.className)) setStatus('connecting', 'connecting…');
  });
  document.addEventListener('htmx:wsOpen', function () { setStatus('connected', 'connected'); });
  document.addEventListener('htmx:wsClose', function (e) {
    var code = e.detail && e.detail.event ? e.detail.event.code : 0;
    var wrapper = e.detail && e.detail.socketWrapper;
    if (RETRIED_BY_HTMX.indexOf(code) >= 0) {
      setStatus('reconnecting', code === 1012 ? 'server restarting, reconnecting…' : 'reconnecting…');
    } else if (code === 1001 && wrapper) {
      // The server closed a connection that had been silent too long (e.g. a laptop that slept):
      // the ws extension gives up after 1001, so come back ourselves.
      setStatus('reconnecting', 'reconnecting…');
      setTimeout(function () { wrapper.reconnect(); }, htmx.config.wsReconnectDelay(ownRetries++));
    } else {
      setStatus('disconnected', 'disconnected: reload the page to rejoin');
    }
  });

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

  // "Mine" is every message carrying my author tag (the welcome's #me has it, data-tag), or for
  // a message from before member ids (no data-by), my name, which is unique within a room.
  function markOwn(root) {
    var me = $('me');
    var mine = me ? me.getAttribute('data-name') : null;
    var tag = me ? me.getAttribute('data-tag') : null;
    if (!mine) return;
    (root || document).querySelectorAll('#messages li.message').forEach(function (li) {
      var by = li.getAttribute('data-by');
      li.classList.toggle('own', by ? by === tag : li.getAttribute('data-name') === mine);
    });
  }

  // The room list arrives the same for everyone (the live `rooms` event): mark this page's room.
  function markCurrentRoom() {
    document.querySelectorAll('#rooms a[href]').forEach(function (a) {
      if (a.pathname === location.pathname) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }

  // The rename box starts with the name asked for; show the one the server gave (e.g. "ann (2)").
  function syncRename() {
    var me = $('me');
    var input = document.querySelector('.rename input[name="name"]');
    if (me && input && document.activeElement !== input) input.value = me.getAttribute('data-name') || input.value;
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

  // Turning the wheel up says "stop following" at once. The scroll event that also says so comes
  // a frame later, and a resize in between (a presence line, the roster) would otherwise pull a
  // list that still counts as following back to the bottom, undoing the reader's turn.
  document.addEventListener('wheel', function (e) {
    var list = $('messages');
    if (e.deltaY < 0 && list && list.scrollTop > 0 && list.contains(e.target)) stickToBottom = false;
  }, { capture: true, passive: true });

  function scrollToNewest() {
    var list = $('messages');
    if (list && stickToBottom) list.scrollTop = list.scrollHeight;
  }

  // The list also changes size: a notice comes or goes, the phone's keyboard opens, the window
  // is resized. Stay at the newest message then too.
  var resizes = window.ResizeObserver ? new ResizeObserver(function () { scrollToNewest(); }) : null;
  var observed = null;
  function watchList() {
    var list = $('messages');
    if (!resizes || !list || list === observed) return;
    if (observed) resizes.unobserve(observed);
    resizes.observe(list);
    observed = list;
  }

  // ws-send does not clear the form: do it after each send, and keep the focus for the next line.
  document.addEventListener('htmx:wsAfterSend', function (e) {
    var form = e.target.closest ? e.target.closest('form') : null;
    if (!form) return;
    form.reset();
    var input = form.querySelector('input[name="message"]');
    if (input) input.focus();
    // Whoever sends wants to see their message arrive.
    stickToBottom = true;
  });

  // Notices go away after a while. Each notice is a new element (the server replaces #notice),
  // so a timer starts when a new one with text arrives, and later messages do not extend it.
  var noticeShown = null;
  var noticeTimer = null;
  function expireNotice() {
    var notice = $('notice');
    if (!notice || notice === noticeShown) return;
    noticeShown = notice;
    clearTimeout(noticeTimer);
    if (!notice.textContent.trim()) return;
    noticeTimer = setTimeout(function () {
      if ($('notice') === notice) {
        notice.textContent = '';
        notice.className = '';
      }
    }, NOTICE_MS);
  }

  // "New since you left": the page remembers, per room and in this browser, the newest message
  // it showed while it was being looked at. A welcome (on opening the page, or on a reconnect)
  // that brings newer ones puts a divider above the first of them and opens the view there.
  var SEEN_KEY = 'chatroom:seen:' + location.pathname;
  function seenSeq() {
    try { return Number(localStorage.getItem(SEEN_KEY)) || 0; } catch (e) { return 0; }
  }
  function rememberSeen() {
    if (document.visibilityState === 'hidden') return;
    var newest = 0;
    document.querySelectorAll('#messages li.message').forEach(function (li) {
      newest = Math.max(newest, Number(li.getAttribute('data-seq')) || 0);
    });
    try { if (newest > seenSeq()) localStorage.setItem(SEEN_KEY, String(newest)); } catch (e) { /* no storage */ }
  }
  document.addEventListener('visibilitychange', rememberSeen);

  function placeDivider(seen) {
    var list = $('messages');
    var me = $('me');
    var mine = me ? me.getAttribute('data-name') : null;
    if (!list || !seen) return;
    var first = Array.prototype.find.call(list.querySelectorAll('li.message'), function (li) {
      return Number(li.getAttribute('data-seq')) > seen && li.getAttribute('data-name') !== mine;
    });
    if (!first) return;
    var divider = document.createElement('li');
    divider.className = 'divider';
    divider.setAttribute('role', 'separator');
    divider.textContent = 'New since you left';
    list.insertBefore(divider, first);
    list.scrollTop = divider.offsetTop - list.offsetTop;
    stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  // A reconnect replaces the whole list: if the reader had scrolled up, keep them where they were.
  var before = null;
  var welcome = false;
  document.addEventListener('htmx:wsBeforeMessage', function (e) {
    var list = $('messages');
    before = list ? { list: list, top: list.scrollTop } : null;
    welcome = typeof e.detail.message === 'string' && e.detail.message.indexOf('<ul id="messages" hx-swap-oob="true"') === 0;
  });

  document.addEventListener('htmx:wsAfterMessage', function () {
    var list = $('messages');
    if (before && list && list !== before.list && !stickToBottom) list.scrollTop = before.top;
    before = null;
    ownRetries = 0;
    localizeTimes();
    markOwn();
    markCurrentRoom();
    syncRename();
    watchList();
    scrollToNewest();
    expireNotice();
    if (welcome) placeDivider(seenSeq());
    rememberSeen();
  });

  // "Load older messages" prepends a page: keep what the reader was looking at in place.
  var heightBefore = 0;
  document.addEventListener('htmx:beforeSwap', function (e) {
    if (e.detail.target && e.detail.target.id === 'more') heightBefore = $('messages').scrollHeight;
  });
  document.addEventListener('htmx:afterSwap', function () {
    var list = $('messages');
    if (!list || !heightBefore) return;
    list.scrollTop += list.scrollHeight - heightBefore;
    heightBefore = 0;
    localizeTimes(list);
    markOwn(list);
  });

  document.addEventListener('DOMContentLoaded', function () {
    localizeTimes();
    watchList();
    expireNotice();
    // The room list is folded away on phones, and open beside the chat on wider screens.
    var rooms = $('rooms-box');
    var wide = window.matchMedia('(min-width: 701px)');
    if (rooms) {
      rooms.open = wide.matches;
      wide.addEventListener('change', function () { rooms.open = wide.matches; });
    }
  });
})();
