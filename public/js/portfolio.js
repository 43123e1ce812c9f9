/* global HTMLFormElement, Element */
/*
 * The portfolio's small enhancements (every form also works without this file):
 *  - [data-print]: prints the page (the transcript's "Print or save as PDF").
 *  - form[data-put-json]: sends the form as JSON with PUT (the notification choices, PUT /me/preferences) and says
 *    the result in the form's status line (role="status"), instead of leaving the page. Checkboxes become booleans.
 */
(function () {
  'use strict';

  document.addEventListener('click', function (event) {
    const el = event.target instanceof Element ? event.target.closest('[data-print]') : null;
    if (el) window.print();
  });

  document.addEventListener('submit', function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-put-json') || event.defaultPrevented) return;
    event.preventDefault();
    const status = document.getElementById(form.getAttribute('data-status') || '');
    const body = {};
    form.querySelectorAll('input[type="checkbox"][name]').forEach(function (box) {
      body[box.name] = box.checked;
    });
    const csrf = new FormData(form).get('_csrf');
    if (status) status.textContent = 'Saving…';
    fetch(form.action, { method: 'PUT', headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': String(csrf || '') }, body: JSON.stringify(body) })
      .then(function (res) {
        if (status) status.textContent = res.ok ? 'Saved.' : 'Not saved (' + res.status + '). Reload the page and try again.';
      })
      .catch(function () {
        if (status) status.textContent = 'Not saved: microcred could not be reached. Try again.';
      });
  });
})();
