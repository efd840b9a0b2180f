// The people side of the page: one's own name (/nick), one's own messages (edit, delete, Up
// arrow), the host's controls (kick and mute on the roster, delete on any message, lock, slow
// mode, the banner), edits and deletes arriving from others, private messages, and being turned
// away (4003, 4004).
//
// How the page knows what is its own: the welcome's #me carries data-tag, and each message item
// its author's tag (data-by); the same bytes go to everyone. Whether it is the host: data-host on
// #me. Controls only send commands (the same text a person could type); the server decides.
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }
  var socket = null; // the ws extension's socket wrapper, from its events

  function myTag() { var me = $('me'); return me ? me.getAttribute('data-tag') || '' : ''; }
  function isHost() { var me = $('me'); return !!(me && me.getAttribute('data-host') === 'true'); }
  function mine(li) { var tag = myTag(); return !!tag && li.getAttribute('data-by') === tag; }

  // A command, sent as a chat text (the page's JSON shape); never put in the message box.
  function send(text) {
    if (socket) socket.send(JSON.stringify({ message: text }), null);
  }

  function button(label, title, command, confirmText) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'act';
    b.textContent = label;
    b.title = title;
    b.setAttribute('data-command', command);
    if (confirmText) b.setAttribute('data-confirm', confirmText);
    return b;
  }

  // Edit and delete on one's own messages; delete on every message for the host.
  function decorateMessages() {
    var host = isHost();
    document.querySelectorAll('#messages li.message[data-seq]:not(.direct)').forEach(function (li) {
      var own = mine(li);
      if (li.getAttribute('data-acts') === String(own) + host) return;
      li.setAttribute('data-acts', String(own) + host);
      li.querySelectorAll('.acts').forEach(function (el) { el.remove(); });
      if (!own && !host) return;
      var seq = li.getAttribute('data-seq');
      var acts = document.createElement('span');
      acts.className = 'acts';
      if (own) acts.appendChild(button('edit', 'Edit this message', 'edit ' + seq));
      acts.appendChild(button('delete', 'Delete this message', '/delete ' + seq, 'Delete this message for everyone?'));
      li.appendChild(acts);
    });
  }

  // Kick and mute beside each name in the roster, for the host.
  function decorateRoster() {
    var host = isHost();
    var me = $('me');
    var myName = me ? me.getAttribute('data-name') : '';
    document.querySelectorAll('#roster li[data-name]').forEach(function (li) {
      var name = li.getAttribute('data-name');
      if (!host || name === myName || li.querySelector('.acts')) return;
      var acts = document.createElement('span');
      acts.className = 'acts';
      acts.appendChild(button('mute', 'Mute ' + name + ' for 10 minutes', '/mute ' + name));
      acts.appendChild(button('kick', 'Remove ' + name + ' for 10 minutes', '/kick ' + name, 'Remove ' + name + ' from the room?'));
      li.appendChild(acts);
    });
    var tools = $('host-tools');
    if (tools) tools.hidden = !host;
  }

  // The text of a message as it was typed, back from its rendered form (links and code are
  // markup, but their text is the text).
  function textOf(li) {
    var span = li.querySelector('.text');
    if (!span) return '';
    var copy = span.cloneNode(true);
    copy.querySelectorAll('button').forEach(function (b) { b.remove(); });
    return copy.textContent;
  }

  // Editing happens in the message box: "/edit SEQ old text", for the person to change and send.
  function startEdit(li) {
    var input = document.querySelector('#send textarea[name="message"]');
    if (!input || !li) return;
    input.value = '/edit ' + li.getAttribute('data-seq') + ' ' + textOf(li);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button.act, #host-tools button') : null;
    if (!b) return;
    var command = b.getAttribute('data-command');
    if (command === 'slow') {
      var seconds = window.prompt('One message per member every how many seconds? (0: off)', '30');
      if (seconds !== null) send('/slow ' + seconds.trim());
      return;
    }
    if (command === 'announce') {
      var banner = $('announce');
      var text = window.prompt('The banner everyone sees (empty: none)', banner && !banner.hidden ? banner.textContent : '');
      if (text !== null) send('/announce ' + text);
      return;
    }
    if (command && command.indexOf('edit ') === 0) return startEdit(b.closest('li'));
    var question = b.getAttribute('data-confirm');
    if (question && !window.confirm(question)) return;
    if (command) send(command);
  });

  // Up arrow in an empty message box: edit one's last message.
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'ArrowUp' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    var input = e.target;
    if (!input.matches || !input.matches('#send textarea[name="message"]') || input.value !== '') return;
    var own = Array.prototype.filter.call(document.querySelectorAll('#messages li.message[data-seq]'), mine);
    if (!own.length) return;
    e.preventDefault();
    startEdit(own[own.length - 1]);
  });

  // Edits and deletes arrive in the hidden #amend element (docs/protocol.md, "What the page receives").
  function applyAmend() {
    var amend = $('amend');
    if (!amend || amend.getAttribute('data-applied')) return;
    amend.setAttribute('data-applied', '1');
    var seq = amend.getAttribute('data-seq');
    var li = document.querySelector('#messages li.message[data-seq="' + seq + '"]:not(.direct)');
    if (!li) return;
    if (amend.getAttribute('data-op') === 'delete') { li.remove(); return; }
    var text = amend.querySelector('.text');
    var old = li.querySelector('.text');
    if (text && old) old.replaceWith(text.cloneNode(true));
    if (!li.querySelector('.edited')) {
      var mark = document.createElement('small');
      mark.className = 'edited';
      mark.textContent = 'edited';
      li.insertBefore(mark, li.querySelector('.acts'));
      li.insertBefore(document.createTextNode(' '), mark);
    }
  }

  // A change of name is a line carrying both names (data-from, data-to), the same for everyone;
  // names are unique in a room, so the line whose data-from is my name is about me. Mine: take
  // the new name in #me (mentions, the roster, and the next reconnect read it), in the address
  // (a reload keeps it), and in the name cookie (other rooms, the next visit), which only the
  // server sets: a HEAD of this page with ?name= does it.
  function applyRenames() {
    document.querySelectorAll('#messages li.rename:not([data-applied])').forEach(function (li) {
      li.setAttribute('data-applied', '1');
      var me = $('me');
      if (!me || li.getAttribute('data-from') !== me.getAttribute('data-name')) return;
      var to = li.getAttribute('data-to');
      me.setAttribute('data-name', to);
      me.textContent = to;
      var url = new URL(location.href);
      url.searchParams.set('name', to);
      history.replaceState(history.state, '', url);
      fetch(url, { method: 'HEAD', credentials: 'same-origin' }).catch(function () { /* kept for this page only */ });
    });
  }

  // The rename box sends /nick while connected: the room sees the change and nothing reloads.
  // Without a connection it falls back to loading the page under the new name.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.matches || !form.matches('form.rename') || !socket) return;
    var status = $('status');
    if (status && !/\bconnected\b/.test(status.className)) return;
    e.preventDefault();
    var input = form.querySelector('input[name="name"]');
    if (input && input.value.trim()) send('/nick ' + input.value.trim());
    var details = form.closest('details');
    if (details) details.open = false;
  });

  // A welcome without a banner means there is none (it may have been cleared while away).
  var welcome = false;
  document.addEventListener('htmx:wsBeforeMessage', function (e) {
    var message = e.detail && typeof e.detail.message === 'string' ? e.detail.message : '';
    welcome = message.indexOf('<span id="me"') >= 0 && message.indexOf('id="announce"') < 0;
  });
  document.addEventListener('htmx:wsAfterMessage', function (e) {
    if (e.detail && e.detail.socketWrapper) socket = e.detail.socketWrapper;
    var banner = $('announce');
    if (welcome && banner) { banner.hidden = true; banner.textContent = ''; }
    welcome = false;
    applyRenames();
    applyAmend();
    decorateMessages();
    decorateRoster();
  });
  document.addEventListener('htmx:wsOpen', function (e) { socket = e.detail.socketWrapper; });
  document.addEventListener('htmx:afterSwap', decorateMessages); // older messages loaded

  // Removed by the host (4003) or a locked room (4004): say why, and do not come back by itself
  // (the ws extension retries only 1006, 1012 and 1013).
  document.addEventListener('htmx:wsClose', function (e) {
    var event = e.detail && e.detail.event;
    if (!event || (event.code !== 4003 && event.code !== 4004)) return;
    var status = $('status');
    if (status) {
      status.className = 'status disconnected';
      status.textContent = event.code === 4003 ? 'removed by the host' : 'the room is locked';
    }
    var notice = $('notice');
    if (notice) {
      notice.className = 'notice error';
      notice.textContent = (event.reason || 'The host closed this connection.') + ' Reload the page to try again.';
    }
  });
})();
