// Follows a running sync or refresh: polls the element's data-poll-url (JSON with `poll: {active, done, total,
// label}`), moves its <progress>, and reloads the page when the work is done. Without JS the page has a Refresh link.
(function () {
  'use strict';
  var el = document.querySelector('[data-poll-url]');
  if (!el || !window.fetch) return;
  var url = el.getAttribute('data-poll-url');
  var bar = el.querySelector('progress');
  var label = el.querySelector('[data-poll-label]');
  var rounds = 0;
  function tick() {
    fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        var p = (d && d.poll) || {};
        if (bar && p.total) { bar.max = p.total; bar.value = p.done; bar.textContent = p.done + ' of ' + p.total; }
        if (label && p.label) label.textContent = p.label;
        if (p.active) { if (++rounds < 450) setTimeout(tick, 2000); }
        else window.location.reload();
      })
      .catch(function () { if (++rounds < 450) setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
