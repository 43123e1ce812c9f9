// LTI Platform Storage client (1EdTech "Client Side postMessages" / Canvas lti.put_data, lti.get_data).
// Login page: put the launch proof into the platform's storage, then continue to Canvas.
// Launch page: get the proof back and post the launch again, for browsers that blocked our cookie.
(function () {
  'use strict';
  var configEl = document.getElementById('lti-storage-config');
  if (!configEl) return;
  var config = JSON.parse(configEl.textContent || '{}');
  var status = document.querySelector('[data-lti-storage-status]');

  function targetFrame() {
    var parentWindow = window.parent !== window ? window.parent : window.opener;
    if (!parentWindow) return null;
    if (config.target === '_parent' || config.target === '_top') return parentWindow;
    try {
      return parentWindow.frames[config.target] || null;
    } catch {
      return null; // a cross-origin parent that hides its frames
    }
  }

  function send(subject, extra, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var frame = targetFrame();
      if (!frame) return reject(new Error('no platform storage frame'));
      var messageId = 'mc-' + Math.random().toString(36).slice(2) + Date.now().toString(36);
      var timer = setTimeout(function () {
        window.removeEventListener('message', onMessage);
        reject(new Error('platform storage did not answer'));
      }, timeoutMs);
      function onMessage(event) {
        var data = event.data || {};
        // Only the platform's own origin may answer, and only this request.
        if (event.origin !== config.origin || data.message_id !== messageId || data.subject !== subject + '.response') return;
        clearTimeout(timer);
        window.removeEventListener('message', onMessage);
        if (data.error) reject(new Error(data.error.message || data.error.code || 'platform storage error'));
        else resolve(data);
      }
      window.addEventListener('message', onMessage);
      var message = { subject: subject, message_id: messageId };
      Object.keys(extra).forEach(function (k) { message[k] = extra[k]; });
      frame.postMessage(message, config.origin);
    });
  }

  if (config.action === 'put') {
    var go = function () { window.location.replace(config.next); };
    send('lti.put_data', { key: config.key, value: config.value }, 1500).then(go, go);
  } else if (config.action === 'get') {
    var form = document.getElementById('lti-storage-form');
    send('lti.get_data', { key: config.key }, 3000).then(
      function (data) {
        form.elements.lti_storage_proof.value = data.value || '';
        form.submit();
      },
      function () {
        if (status) status.textContent = '';
        var failed = document.querySelector('[data-lti-storage-failed]');
        if (failed) failed.hidden = false;
      },
    );
  }
})();
