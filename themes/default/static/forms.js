// Progressive enhancement for the site's forms; every form works without it.
// - Fills each form's hidden form_token (GET /api/forms/token) and idempotency_key, so a
//   double-clicked or retried submission is answered once.
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
