// Searching the room's history from the page: the search box asks /r/ROOM/search and shows what
// it finds in a panel, newest first, with the match marked; "Load more" pages back with
// `before`. Loaded as a file because the Content-Security-Policy forbids inline scripts.
//
// User text is never parsed as HTML here: every piece goes into the page as a text node
// (textContent), and a match is a <mark> element around a text node.
//
// Case is ignored the way the server ignores it: each character lower-cased on its own, and a
// final sigma read as sigma (see src/chat/history/search.rs). Clicking a result that is loaded in
// the conversation scrolls to it; one that is not loaded is only shown here.
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }

  // `text` folded as the server folds it, and for each UTF-16 unit of the result the index in
  // `text` of the character it came from (with the end of `text` last), to map a match back.
  function fold(text) {
    var folded = '';
    var from = [];
    var at = 0;
    for (var ch of text) {
      var lower = ch.toLowerCase();
      if (lower === 'ς') lower = 'σ';
      for (var i = 0; i < lower.length; i++) from.push(at);
      folded += lower;
      at += ch.length;
    }
    from.push(at);
    return { text: folded, from: from };
  }

  // Appends `text` to `parent`, with every occurrence of the folded query inside <mark>. A match
  // that begins or ends inside one character's lower-case form (`İ` is two units) takes it whole.
  function appendMarked(parent, text, query) {
    var folded = fold(text);
    var from = folded.from;
    var last = 0;
    var found = query ? folded.text.indexOf(query) : -1;
    while (found >= 0) {
      var start = from[found];
      var unit = found + query.length - 1;
      var here = from[unit];
      while (from[unit] === here) unit++;
      var end = from[unit];
      if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
      var mark = document.createElement('mark');
      mark.textContent = text.slice(start, end);
      parent.appendChild(mark);
      last = end;
      found = folded.text.indexOf(query, unit);
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function localTime(iso) {
    var when = new Date(iso);
    if (isNaN(when)) return iso;
    var time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return when.toDateString() === new Date().toDateString() ? time
      : when.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' }) + ' ' + time;
  }

  // One result: time, name and text, the match marked. A button when the message is also in the
  // conversation, which it then scrolls to.
  function resultItem(message, query) {
    var li = document.createElement('li');
    li.className = 'hit';
    li.setAttribute('data-seq', String(message.seq));
    var shown = document.querySelector('#messages li.message[data-seq="' + message.seq + '"]');
    var body = li;
    if (shown) {
      body = document.createElement('button');
      body.type = 'button';
      body.title = 'Show it in the conversation';
      body.addEventListener('click', function () { reveal(message.seq); });
      li.appendChild(body);
    }
    var time = document.createElement('time');
    time.setAttribute('datetime', message.ts);
    time.textContent = localTime(message.ts);
    time.title = new Date(message.ts).toLocaleString();
    var name = document.createElement('b');
    name.className = 'name';
    appendMarked(name, message.name, query);
    var text = document.createElement('span');
    text.className = 'text';
    appendMarked(text, message.text, query);
    body.append(time, ' ', name, ' ', text);
    return li;
  }

  function reveal(seq) {
    var li = document.querySelector('#messages li.message[data-seq="' + seq + '"]');
    if (!li) return;
    li.scrollIntoView({ block: 'center' });
    li.classList.add('found');
    setTimeout(function () { li.classList.remove('found'); }, 2000);
  }

  // The panel takes room from the conversation above it: a reader who was at the newest message
  // stays there (the page's own script follows new messages only while the list is at its end).
  function keepingNewest(change) {
    var list = $('messages');
    var atEnd = list && list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    change();
    if (atEnd) list.scrollTop = list.scrollHeight;
  }

  var state = { q: '', before: null, busy: false };

  // Asks the server for a page of results (the first, or the next with `before`).
  function ask(form, more) {
    var panel = $('search-results');
    var list = $('search-list');
    var status = $('search-status');
    var moreButton = $('search-more');
    if (state.busy) return;
    state.busy = true;
    var params = new URLSearchParams({ q: state.q, limit: '50' });
    if (more && state.before) params.set('before', String(state.before));
    keepingNewest(function () {
      if (!more) list.replaceChildren();
      panel.hidden = false;
      status.textContent = 'Searching…';
      moreButton.hidden = true;
    });
    fetch(form.getAttribute('action') + '?' + params.toString(), { headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.ok) return response.json();
        return response.text().then(function (why) { throw new Error(why.trim() || 'Search failed.'); });
      })
      .then(function (results) {
        keepingNewest(function () {
          var query = fold(results.q).text;
          results.messages.forEach(function (message) { list.appendChild(resultItem(message, query)); });
          var count = list.children.length;
          status.textContent = count === 0 ? 'Nothing found for “' + results.q + '”.'
            : count + (results.more ? '+' : '') + (count === 1 ? ' message' : ' messages') + ' with “' + results.q + '”, newest first.';
          state.before = results.more ? results.before : null;
          moreButton.hidden = !results.more;
        });
      })
      .catch(function (error) { keepingNewest(function () { status.textContent = error.message; }); })
      .then(function () { state.busy = false; });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = $('search');
    if (!form) return;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var q = form.elements.q.value.trim();
      if (!q) return;
      state.q = q;
      state.before = null;
      ask(form, false);
    });
    $('search-more').addEventListener('click', function () { ask(form, true); });
    $('search-close').addEventListener('click', function () {
      keepingNewest(function () { $('search-results').hidden = true; });
      form.elements.q.focus();
    });
  });
})();
