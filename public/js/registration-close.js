// Tells Canvas that Dynamic Registration is finished (IMS LTI Dynamic Registration §3.6.3).
(function () {
  'use strict';
  function close() {
    (window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
  }
  var button = document.querySelector('[data-close-registration]');
  if (button) button.addEventListener('click', close);
})();
