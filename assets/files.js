// Sharing files: the attach button, pasting a picture, and dropping files on the chat, each sent
// as the raw body of POST /r/ROOM/files?name=NAME (docs/protocol.md). The server posts the
// file's message in the room itself; this script only sends, shows progress, and says why a
// file was refused. A server without a data directory (--memory) renders the attach button with
// class "off", and then none of this is wired up.
(function () {
  'use strict';

  var BIG = 1024 * 1024; // files larger than this get a progress bar
  var queue = [];
  var busy = false;

  function $(id) { return document.getElementById(id); }

  function size(bytes) {
    if (bytes < 1024) return bytes + (bytes === 1 ? ' byte' : ' bytes');
    var units = ['KiB', 'MiB', 'GiB'];
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
    return value.toFixed(1) + ' ' + units[unit];
  }

  // Refusals go where the server's own notices go, as an error.
  function say(text) {
    var notice = $('notice');
    if (!notice) return;
    notice.className = text ? 'notice error' : '';
    notice.textContent = text;
  }

  function showProgress(file, fraction) {
    var box = $('upload');
    if (!box) return;
    box.hidden = fraction === null;
    if (fraction === null) return;
    $('upload-name').textContent = 'Sending ' + file.name + ' (' + size(file.size) + ')';
    $('upload-progress').value = fraction;
  }

  function enqueue(files) {
    for (var i = 0; i < files.length; i++) queue.push(files[i]);
    next();
  }

  function next() {
    if (busy || !queue.length) return;
    var file = queue.shift();
    var attach = $('attach');
    var max = Number(attach.dataset.maxUpload);
    if (file.size > max) {
      say('“' + file.name + '” is too large to share: ' + size(file.size) + ', and at most ' + size(max) + ' may be.');
      next();
      return;
    }
    busy = true;
    var me = $('me');
    var url = attach.dataset.upload + '?name=' + encodeURIComponent(file.name || 'file') +
      (me && me.dataset.name ? '&member=' + encodeURIComponent(me.dataset.name) : '');
    // XMLHttpRequest, not fetch: only it reports the upload's progress.
    var xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    if (file.size > BIG) {
      showProgress(file, 0);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) showProgress(file, e.loaded / e.total);
      };
    }
    xhr.onload = function () {
      if (xhr.status === 201) {
        say('');
      } else {
        say('“' + file.name + '” was not shared: ' + (xhr.responseText.trim() || 'the server said ' + xhr.status + '.'));
      }
      done();
    };
    xhr.onerror = function () {
      say('“' + file.name + '” was not shared: the connection to the server was lost.');
      done();
    };
    xhr.send(file);
  }

  function done() {
    busy = false;
    showProgress(null, null);
    next();
  }

  function hasFiles(e) {
    return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, 'Files') >= 0;
  }

  document.addEventListener('DOMContentLoaded', function () {
    var attach = $('attach');
    var input = $('attach-input');
    if (!attach || !input || attach.classList.contains('off')) return;
    attach.addEventListener('click', function () { input.click(); });
    input.addEventListener('change', function () {
      enqueue(input.files);
      input.value = '';
    });
    // A picture (a screenshot) pasted anywhere in the page is shared, not typed.
    document.addEventListener('paste', function (e) {
      var files = e.clipboardData && e.clipboardData.files;
      if (!files || !files.length) return;
      e.preventDefault();
      enqueue(files);
    });
    var chat = $('chat');
    chat.addEventListener('dragover', function (e) {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      chat.classList.add('dropping');
    });
    chat.addEventListener('dragleave', function (e) {
      if (!chat.contains(e.relatedTarget)) chat.classList.remove('dropping');
    });
    chat.addEventListener('drop', function (e) {
      chat.classList.remove('dropping');
      if (!hasFiles(e)) return;
      e.preventDefault();
      enqueue(e.dataTransfer.files);
    });
  });
})();
