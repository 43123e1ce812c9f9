// Submits a form marked data-auto-submit (the Deep Linking return to Canvas); without JS its button does it.
(function () {
  'use strict';
  var form = document.querySelector('form[data-auto-submit]');
  if (form) form.submit();
})();
