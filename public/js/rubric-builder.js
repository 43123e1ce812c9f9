/* global Element, URLSearchParams, DOMParser, HTMLInputElement */
/*
 * The rubric builder (and the stack editor) in place. Without this file every builder button
 * (name="action": add-criterion, level-up:1.2, remove-member:0 …) posts the form and the server
 * re-renders the page with the change. With it, the same request is made in the background and only
 * the form is swapped: what was typed stays (the server echoes it), focus goes where the server says
 * (data-focus: the new row, or the moved row's button), and the change is announced in the
 * aria-live region #builder-status. "Save draft" still submits the page normally.
 * Also keeps the derived CEUs next to the hours up to date.
 */
(function () {
  'use strict';

  var form = document.querySelector('form[data-builder]');
  var status = document.getElementById('builder-status');
  if (!form || !window.fetch || !window.DOMParser) return;
  var busy = false;

  function announce(text) {
    if (!status) return;
    // Clear first so the same words twice are announced twice.
    status.textContent = '';
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function focusById(id) {
    var el = id && document.getElementById(id);
    if (el && typeof el.focus === 'function') {
      el.focus();
      if (el.scrollIntoView) el.scrollIntoView({ block: 'nearest' });
    }
  }

  form.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('button[name="action"]') : null;
    if (!button || button.value === 'save' || !form.contains(button)) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    var body = new URLSearchParams(new FormData(form));
    body.set('action', button.value);
    // form.action would be the buttons named "action" (named-property shadowing): read the attribute.
    fetch(form.getAttribute('action'), { method: 'POST', body: body, credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var next = doc.querySelector('form[data-builder]');
        if (!next) throw new Error('no form in the answer');
        form.replaceChildren.apply(form, Array.prototype.slice.call(next.childNodes).map(function (n) { return document.importNode(n, true); }));
        var target = next.getAttribute('data-focus');
        var said = doc.getElementById('builder-status');
        focusById(target);
        announce(said ? said.textContent : 'Updated.');
        updateCeus();
      })
      .catch(function () {
        // Fall back to the plain form post: the page reloads with the change.
        var hidden = document.createElement('input');
        hidden.type = 'hidden';
        hidden.name = 'action';
        hidden.value = button.value;
        form.appendChild(hidden);
        form.submit();
      })
      .then(function () { busy = false; });
  });

  // --- CEUs follow the hours as they are typed (1 CEU per 10 hours, to a tenth) -------------
  function updateCeus() {
    var hours = form.querySelector('input[name="hours"]');
    var out = form.querySelector('[data-ceus]');
    if (!hours || !out) return;
    var h = hours.value.trim() === '' ? NaN : Number(hours.value);
    out.textContent = isFinite(h) && h >= 0 ? String(Math.round(h) / 10) : '–';
  }
  form.addEventListener('input', function (event) {
    if (event.target instanceof HTMLInputElement && event.target.name === 'hours') updateCeus();
  });
})();
