// Dynamic Registration: the tool posts {subject: 'org.imsglobal.lti.close'} to this page when it is done.
(function () {
  'use strict';
  window.addEventListener('message', function (event) {
    var data = event.data;
    if (!data || data.subject !== 'org.imsglobal.lti.close') return;
    var status = document.getElementById('registration-status');
    if (status) status.textContent = 'Registration finished. The tool is installed; it appears on the dashboard.';
    var frame = document.querySelector('iframe.tool-frame');
    if (frame) frame.remove();
  });
})();
