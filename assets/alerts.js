// Being called: what the page does when messages come while you look elsewhere.
// Loaded as a file because the Content-Security-Policy forbids inline scripts.
//
// - Messages that mention you (the server lists the names in data-mentions) are marked.
// - While the page is hidden, new messages count up in the title, "(3) #kitchen · chatroom",
//   and the icon gets a dot; both clear when the page is seen again.
// - A new message that should alert you while the page is hidden (by the setting: mentions of
//   you, every message, or nothing; kept in this browser) plays a short sound, made here with
//   Web Audio, and shows a desktop notification where the browser allows them. Browsers allow
//   those only on HTTPS or localhost; on a plain-HTTP LAN address the setting says so once and
//   never asks.
// Every alert is also announced to the page as a `chatroom:alert` event, which the browser
// tests listen for.
(function () {
  'use strict';

  var SETTING_KEY = 'chatroom:alerts';
  var SETTINGS = ['mentions', 'all', 'off'];
  var ICON = '/assets/favicon.svg';
  var ICON_UNREAD = '/assets/favicon-unread.svg';

  function $(id) { return document.getElementById(id); }

  function myName() {
    var me = $('me');
    return me ? me.getAttribute('data-name') : null;
  }

  function setting() {
    var saved = null;
    try { saved = localStorage.getItem(SETTING_KEY); } catch (e) { /* storage off: default */ }
    return SETTINGS.indexOf(saved) >= 0 ? saved : 'mentions';
  }

  function mentions(li) {
    try { return JSON.parse(li.getAttribute('data-mentions') || '[]'); } catch (e) { return []; }
  }

  function seqOf(li) { return Number(li.getAttribute('data-seq')) || 0; }

  function hidden() { return document.visibilityState === 'hidden'; }

  // Marks every message that mentions me (again after a rename or a reconnect).
  function markMentions(root) {
    var mine = myName();
    (root || document).querySelectorAll('#messages li.message').forEach(function (li) {
      li.classList.toggle('mention', !!mine && li.getAttribute('data-name') !== mine &&
        mentions(li).indexOf(mine) >= 0);
    });
  }

  // --- Unread messages: the title and the icon -------------------------------------------------

  var baseTitle = document.title;
  var unread = 0;
  var newest = 0; // the highest seq taken into account (counted or seen)

  function newestShown() {
    var last = 0;
    document.querySelectorAll('#messages li.message').forEach(function (li) { last = Math.max(last, seqOf(li)); });
    return last;
  }

  function showUnread() {
    document.title = unread > 0 ? '(' + unread + ') ' + baseTitle : baseTitle;
    var icon = document.querySelector('link[rel="icon"]');
    if (icon) icon.setAttribute('href', unread > 0 ? ICON_UNREAD : ICON);
  }

  // The messages that came since the last look: counted while hidden, and each perhaps alerting.
  function takeNew() {
    var mine = myName();
    var fresh = [];
    document.querySelectorAll('#messages li.message').forEach(function (li) {
      if (seqOf(li) > newest && li.getAttribute('data-name') !== mine) fresh.push(li);
    });
    newest = Math.max(newest, newestShown());
    if (!hidden()) return;
    unread += fresh.length;
    showUnread();
    var wanted = setting();
    var alerting = fresh.filter(function (li) {
      return wanted === 'all' || (wanted === 'mentions' && mine && mentions(li).indexOf(mine) >= 0);
    });
    if (alerting.length) alert(alerting[alerting.length - 1]);
  }

  document.addEventListener('visibilitychange', function () {
    if (hidden()) return;
    unread = 0;
    newest = Math.max(newest, newestShown());
    showUnread();
  });

  // --- Sound and notification --------------------------------------------------------------------

  var audio = null;
  // Browsers let a page make sound only after the person has interacted with it: make the audio
  // context on the first key or click, so that it is ready when a mention comes.
  function wakeAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === 'suspended') audio.resume();
  }
  document.addEventListener('keydown', wakeAudio, { capture: true });
  document.addEventListener('pointerdown', wakeAudio, { capture: true });

  // Two short sine notes, a fifth apart: audible, and gone in a quarter of a second.
  function chime() {
    if (!audio || audio.state !== 'running') return false;
    var now = audio.currentTime;
    [[660, 0], [990, 0.12]].forEach(function (note) {
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, now + note[1]);
      gain.gain.exponentialRampToValueAtTime(0.2, now + note[1] + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + note[1] + 0.12);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + note[1]);
      tone.stop(now + note[1] + 0.13);
    });
    return true;
  }

  function canNotify() {
    return window.isSecureContext && 'Notification' in window;
  }

  function alert(li) {
    var name = li.getAttribute('data-name');
    var text = li.querySelector('.text');
    var sounded = chime();
    var notified = false;
    if (canNotify() && Notification.permission === 'granted') {
      var note = new Notification(name + ' in ' + baseTitle.replace(/ · chatroom$/, ''), {
        body: text ? text.textContent : '',
        tag: 'chatroom-' + location.pathname,
      });
      note.onclick = function () { window.focus(); note.close(); };
      notified = true;
    }
    document.dispatchEvent(new CustomEvent('chatroom:alert', {
      detail: { seq: seqOf(li), name: name, sound: sounded, notification: notified },
    }));
  }

  // --- The setting -------------------------------------------------------------------------------

  function setUpSetting() {
    var select = $('alerts');
    var note = $('alerts-note');
    if (!select) return;
    select.value = setting();
    select.addEventListener('change', function () {
      try { localStorage.setItem(SETTING_KEY, select.value); } catch (e) { /* kept for this visit */ }
      wakeAudio();
      // Ask for notifications only when the person turns alerts on, and only where the browser
      // can grant them; never on load, and never on plain HTTP.
      if (select.value !== 'off' && canNotify() && Notification.permission === 'default') {
        Notification.requestPermission();
      }
    });
    if (note) {
      note.textContent = canNotify()
        ? ''
        : 'Sound only: desktop notifications need HTTPS or localhost.';
    }
  }

  var started = false;
  document.addEventListener('htmx:wsAfterMessage', function () {
    markMentions();
    // The first frame is the welcome: what it replays was there before this page, not news.
    if (!started) {
      started = true;
      newest = newestShown();
      return;
    }
    takeNew();
  });
  // "Load older messages" brings older ones: mark them, count nothing.
  document.addEventListener('htmx:afterSwap', function () { markMentions(); });
  document.addEventListener('DOMContentLoaded', function () {
    setUpSetting();
    showUnread();
  });
})();
