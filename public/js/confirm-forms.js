/* global HTMLFormElement */
/*
 * Publish and retire forms carry data-confirm (app.js asks) and a hidden confirmed="" field. Once the
 * person has said yes in the browser's dialog, mark the post as confirmed so the server does not ask
 * again on its confirmation page (which is what people without JavaScript get).
 * app.js's submit listener runs first (it loads first) and cancels the submit on "no".
 */
(function () {
  'use strict';
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !form.hasAttribute('data-confirm')) return;
    var field = form.querySelector('input[data-confirmed]');
    if (field) field.value = 'yes';
  });
})();
