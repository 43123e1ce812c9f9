/*
 * The review page, enhanced: drafts autosave (the server answers the passing rule's result, computed with the
 * catalog's evaluate, so the live result is never a second implementation), and keyboard shortcuts with a help
 * overlay (?). Without this file the page works: "Save draft" posts the form and the result shows after it.
 */
(function () {
  'use strict';

  var form = document.getElementById('review-form');
  if (!form) return;
  var editable = form.hasAttribute('data-editable');
  var draftUrl = form.getAttribute('data-draft-url');
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  var criteria = Array.prototype.slice.call(form.querySelectorAll('[data-criterion]'));
  var resultText = form.querySelector('[data-result-text]');
  var status = document.getElementById('autosave-status');
  var current = 0;
  var timer = null;
  var dirty = false;
  var saving = null;

  function radios(i) {
    return criteria[i] ? Array.prototype.slice.call(criteria[i].querySelectorAll('input[type="radio"]')) : [];
  }

  function setCurrent(i, focus) {
    if (!criteria.length) return;
    current = Math.max(0, Math.min(criteria.length - 1, i));
    // Highlight only where keys can score (a read-only rubric has no "current" criterion to act on).
    if (editable) criteria.forEach(function (c, k) { c.classList.toggle('rubric__criterion--current', k === current); });
    if (focus) {
      var list = radios(current);
      var target = list.filter(function (r) { return r.checked; })[0] || list[0];
      if (target) {
        target.focus();
        criteria[current].scrollIntoView({ block: 'nearest' });
      }
    }
  }

  function collect() {
    var data = { scores: {}, comments: {}, feedback: '' };
    criteria.forEach(function (c) {
      var id = c.getAttribute('data-criterion');
      var checked = c.querySelector('input[type="radio"]:checked');
      if (checked) data.scores[id] = checked.value;
      var comment = form.querySelector('[name="comment-' + id + '"]');
      if (comment && comment.value) data.comments[id] = comment.value;
    });
    var feedback = form.querySelector('[name="feedback"]');
    data.feedback = feedback ? feedback.value : '';
    return data;
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function save(opts) {
    if (!editable || !draftUrl) return Promise.resolve();
    clearTimeout(timer);
    dirty = false;
    say('Saving…');
    saving = fetch(draftUrl, {
      method: 'PUT',
      credentials: 'same-origin',
      keepalive: !!(opts && opts.keepalive),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(collect()),
    })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) {
            say('Not saved: ' + (body && body.error ? body.error.message : 'try again.'));
            return;
          }
          if (resultText && body.evaluation) resultText.textContent = body.evaluation.summary;
          var t = new Date();
          say('Draft saved at ' + t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) + '.');
        });
      })
      .catch(function () {
        dirty = true;
        say('Not saved: no connection. Your work is still on this page.');
      });
    return saving;
  }

  function schedule(delay) {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  form.addEventListener('change', function (e) {
    if (e.target instanceof HTMLElement && e.target.matches('input[type="radio"]')) schedule(120);
  });
  form.addEventListener('input', function (e) {
    if (e.target instanceof HTMLElement && e.target.matches('textarea') && e.target.getAttribute('name') !== 'overrideComment') schedule(1200);
  });
  form.addEventListener('focusin', function (e) {
    var c = e.target instanceof HTMLElement ? e.target.closest('[data-criterion]') : null;
    if (c) setCurrent(criteria.indexOf(c), false);
  });
  // "Save draft" stays on the page when the script runs.
  form.addEventListener('click', function (e) {
    var b = e.target instanceof HTMLElement ? e.target.closest('[data-save-draft]') : null;
    if (b) {
      e.preventDefault();
      save();
    }
  });
  window.addEventListener('pagehide', function () {
    if (dirty) save({ keepalive: true });
  });

  function go(selector) {
    var link = document.querySelector(selector);
    if (!link) return;
    var href = link.getAttribute('href');
    (dirty ? save() : Promise.resolve()).then(function () { window.location.href = href; });
  }

  function focusEl(el) {
    if (el) {
      el.focus();
      el.scrollIntoView({ block: 'nearest' });
    }
  }

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var typing = t instanceof HTMLElement && (t.matches('textarea, select, input[type="text"], input[type="search"]') || t.isContentEditable);
    if (typing) {
      if (e.key === 'Escape') {
        e.preventDefault();
        t.blur();
        setCurrent(current, true);
      }
      return;
    }
    if (document.querySelector('dialog[open]')) return;
    var key = e.key;
    if (key === '?') {
      var dialog = document.getElementById('shortcuts-dialog');
      if (dialog && typeof dialog.showModal === 'function') {
        e.preventDefault();
        dialog.showModal();
      }
      return;
    }
    if (/^[1-9]$/.test(key)) {
      var list = radios(current);
      var r = list[Number(key) - 1];
      if (!r || r.disabled) return;
      e.preventDefault();
      r.checked = true;
      r.dispatchEvent(new Event('change', { bubbles: true }));
      // Like SpeedGrader: choosing a level moves on to the next criterion.
      if (current < criteria.length - 1) setCurrent(current + 1, true);
      else r.focus();
      return;
    }
    var actions = {
      j: function () { setCurrent(current + 1, true); },
      k: function () { setCurrent(current - 1, true); },
      c: function () { focusEl(criteria[current] && criteria[current].querySelector('textarea')); },
      f: function () { focusEl(document.getElementById('feedback')); },
      a: function () { focusEl(form.querySelector('[data-decision="award"]')); },
      n: function () { focusEl(form.querySelector('[data-decision="not_yet"]')); },
      s: function () { save(); },
      e: function () { focusEl(document.getElementById('evidence')); },
      ']': function () { go('[data-nav-next]'); },
      '[': function () { go('[data-nav-prev]'); },
    };
    if (Object.prototype.hasOwnProperty.call(actions, key)) {
      e.preventDefault();
      actions[key]();
    }
  });

  // Start on the first criterion without a level.
  var firstOpen = criteria.findIndex(function (c) { return !c.querySelector('input[type="radio"]:checked'); });
  setCurrent(firstOpen === -1 ? 0 : firstOpen, false);
})();
