// LTI Platform Storage (lti.capabilities, lti.put_data, lti.get_data), as Canvas's post_message_forwarding frame
// answers it. Values are kept per sender origin, in memory, for the life of the launch page.
(function () {
  'use strict';
  var store = new Map();
  var SUPPORTED = ['lti.capabilities', 'lti.put_data', 'lti.get_data'];
  var isForwardingFrame = window.name === 'post_message_forwarding';

  function bucket(origin) {
    if (!store.has(origin)) store.set(origin, new Map());
    return store.get(origin);
  }

  function reply(event, message) {
    if (event.source && typeof event.source.postMessage === 'function') event.source.postMessage(message, event.origin);
  }

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (typeof data === 'string') {
      try { data = JSON.parse(data); } catch { return; }
    }
    if (!data || typeof data.subject !== 'string' || data.subject.indexOf('lti.') !== 0 || /\.response$/.test(data.subject)) return;
    if (data.subject === 'lti.frameResize') {
      // As Canvas does: the tool's frame takes the height it asks for (no reply is sent).
      var h = Number(String(data.height).replace(/px$/, ''));
      Array.prototype.forEach.call(document.querySelectorAll('iframe.tool-frame'), function (f) {
        if (f.contentWindow === event.source && h > 0) f.style.height = Math.min(h, 20000) + 'px';
      });
      return;
    }
    var base = { subject: data.subject + '.response', message_id: data.message_id };
    if (SUPPORTED.indexOf(data.subject) < 0) {
      // The launch page relays other lti.* messages in real Canvas; here only the storage subjects exist.
      reply(event, Object.assign(base, { error: { code: 'unsupported_subject', message: 'Unsupported subject: ' + data.subject } }));
      return;
    }
    if (!data.message_id) {
      reply(event, Object.assign(base, { error: { code: 'bad_request', message: 'message_id is required' } }));
      return;
    }
    if (data.subject === 'lti.capabilities') {
      reply(event, Object.assign(base, {
        supported_messages: [
          { subject: 'lti.capabilities' },
          { subject: 'lti.put_data', frame: 'post_message_forwarding' },
          { subject: 'lti.get_data', frame: 'post_message_forwarding' }
        ]
      }));
      return;
    }
    if (typeof data.key !== 'string' || data.key === '') {
      reply(event, Object.assign(base, { error: { code: 'bad_request', message: 'key is required' } }));
      return;
    }
    var b = bucket(event.origin);
    if (data.subject === 'lti.put_data') {
      if (data.value === undefined || data.value === null) b.delete(data.key);
      else b.set(data.key, data.value);
      reply(event, Object.assign(base, { key: data.key, value: data.value }));
      return;
    }
    reply(event, Object.assign(base, { key: data.key, value: b.has(data.key) ? b.get(data.key) : null }));
  });

  if (isForwardingFrame) document.documentElement.setAttribute('data-platform-storage', 'ready');
})();
