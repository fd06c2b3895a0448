// Progressive enhancement for the site's forms; every form works without it.
// - Fills each form's hidden form_token (GET /api/forms/token) and idempotency_key, so a
//   double-clicked or retried submission is answered once.
// - Sends a form's files ahead of it: each is announced (POST /api/uploads) and sent where
//   the answer says (straight to storage on AWS, so no size limit of the functions applies),
//   then the form carries their tokens in `uploads` instead of the files.
// - On the issue form, suggests knowledge-base articles matching the subject while the
//   visitor types (GET /api/search).
(function () {
  'use strict';
  var tokens = document.querySelectorAll('input[data-form-token]');
  if (tokens.length) {
    fetch('/api/forms/token', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        tokens.forEach(function (t) { t.value = j.token; });
      })
      .catch(function () {});
  }
  document.querySelectorAll('input[data-idempotency-key]').forEach(function (k) {
    if (window.crypto && crypto.randomUUID) k.value = crypto.randomUUID();
  });

  function sendAhead(file) {
    var refused = function (r, what) {
      return r.json().catch(function () { return null; }).then(function (j) {
        throw new Error((j && j.error && j.error.message) || (file.name + ': ' + what));
      });
    };
    return fetch('/api/uploads', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ file_name: file.name, size: file.size, media_type: file.type })
    }).then(function (r) {
      return r.ok ? r.json() : refused(r, 'refused');
    }).then(function (slot) {
      var local = slot.url.charAt(0) === '/';
      return fetch(slot.url, {
        method: slot.method,
        headers: slot.headers,
        body: file,
        credentials: local ? 'same-origin' : 'omit'
      }).then(function (r) {
        return r.ok ? slot.upload : refused(r, 'could not be sent');
      });
    });
  }
  Array.prototype.forEach.call(document.forms, function (form) {
    var inputs = form.querySelectorAll('input[type="file"]');
    if (!inputs.length || !window.fetch || !window.Promise) return;
    // Back to a page the browser kept: its uploads went with the form sent then; the files
    // are chosen and sent afresh.
    window.addEventListener('pageshow', function (ev) {
      if (!ev.persisted) return;
      form.querySelectorAll('input[name="uploads"]').forEach(function (h) { h.remove(); });
      inputs.forEach(function (i) { i.disabled = false; });
      form.removeAttribute('aria-busy');
    });
    var status = document.createElement('p');
    status.className = 'upload-status';
    status.setAttribute('role', 'status');
    inputs[inputs.length - 1].parentNode.appendChild(status);
    form.addEventListener('submit', function (ev) {
      var files = [];
      inputs.forEach(function (i) {
        if (!i.disabled) Array.prototype.forEach.call(i.files || [], function (f) { files.push(f); });
      });
      if (!files.length) return;
      ev.preventDefault();
      if (form.getAttribute('aria-busy') === 'true') return;
      form.setAttribute('aria-busy', 'true');
      status.textContent = files.length === 1 ? 'Sending the file…' : 'Sending ' + files.length + ' files…';
      Promise.all(files.map(sendAhead)).then(function (tokens) {
        inputs.forEach(function (i) { i.disabled = true; });
        tokens.forEach(function (t) {
          var hidden = document.createElement('input');
          hidden.type = 'hidden';
          hidden.name = 'uploads';
          hidden.value = t;
          form.appendChild(hidden);
        });
        status.textContent = 'Sending the form…';
        form.submit();
      }).catch(function (e) {
        form.removeAttribute('aria-busy');
        status.setAttribute('role', 'alert');
        status.textContent = e.message;
      });
    });
  });

  var box = document.querySelector('[data-suggest-for]');
  if (!box) return;
  var input = document.getElementById(box.getAttribute('data-suggest-for'));
  if (!input) return;
  var timer = null;
  var last = '';
  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 3) { box.replaceChildren(); return; }
      fetch('/api/search?per_page=5&q=' + encodeURIComponent(q))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j || q !== last) return;
          box.replaceChildren();
          var hits = j.hits.filter(function (h) { return h.kind === 'article' || h.kind === 'faq'; });
          if (!hits.length) return;
          var p = document.createElement('p');
          p.textContent = 'These articles may answer your question:';
          var ul = document.createElement('ul');
          hits.forEach(function (h) {
            var li = document.createElement('li');
            var a = document.createElement('a');
            a.href = h.url;
            a.target = '_blank';
            a.rel = 'noopener';
            a.textContent = h.title;
            li.appendChild(a);
            ul.appendChild(li);
          });
          box.appendChild(p);
          box.appendChild(ul);
        })
        .catch(function () {});
    }, 250);
  });
})();
