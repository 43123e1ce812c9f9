/*
 * microcred progressive enhancement. Every page works without this file; it only makes
 * things faster or friendlier. No framework, no inline handlers (the CSP forbids them).
 *
 *  - data-confirm="Question?" on a button, link or form: ask before going ahead.
 *  - [data-error-summary]: focused on load so screen readers hear the problems first;
 *    its links focus the field they name.
 *  - .alert[data-dismissible]: gets a "Dismiss" button.
 *  - [data-dialog-open="id"] opens <dialog id="id"> as a modal; [data-dialog-close] closes it.
 *  - [data-js-only]: shown only when this script runs (e.g. a "Keyboard shortcuts" button).
 *  - Inside Canvas's iframe: tells Canvas the page's height (lti.frameResize), so the frame has no scrollbar of
 *    its own and the page scrolls as one.
 */
(function () {
  'use strict';

  function closestFrom(target, selector) {
    return target instanceof HTMLElement ? target.closest(selector) : null;
  }

  // --- Confirm before destructive actions --------------------------------------------
  document.addEventListener('click', function (event) {
    const el = closestFrom(event.target, 'button[data-confirm], input[type="submit"][data-confirm], a[data-confirm]');
    if (!el || el.disabled || el.getAttribute('aria-disabled') === 'true') return;
    if (!window.confirm(el.getAttribute('data-confirm') || 'Are you sure?')) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  document.addEventListener('submit', function (event) {
    const form = event.target;
    if (!(form instanceof HTMLElement) || !form.hasAttribute('data-confirm')) return;
    if (!window.confirm(form.getAttribute('data-confirm') || 'Are you sure?')) event.preventDefault();
  });

  // --- Disabled links and buttons (aria-disabled keeps them focusable) ---------------
  document.addEventListener('click', function (event) {
    const el = closestFrom(event.target, '[aria-disabled="true"]');
    if (el) event.preventDefault();
  }, true);

  function init() {
    // --- Error summary: focus it; its links focus their field ---------------------------
    const summary = document.querySelector('[data-error-summary]');
    if (summary instanceof HTMLElement) {
      summary.focus();
      summary.addEventListener('click', function (event) {
        const link = closestFrom(event.target, 'a[href^="#"]');
        if (!link) return;
        const id = decodeURIComponent(link.getAttribute('href').slice(1));
        const field = document.getElementById(id);
        if (!field) return;
        event.preventDefault();
        const label = document.querySelector('label[for="' + id.replace(/"/g, '\\"') + '"]');
        (label || field).scrollIntoView({ block: 'center' });
        field.focus({ preventScroll: true });
      });
    }

    // --- Dismissible alerts --------------------------------------------------------------
    document.querySelectorAll('.alert[data-dismissible]').forEach(function (alert) {
      if (alert.querySelector('.alert__close')) return;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'alert__close';
      const icon = document.createElement('span');
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = '\u00d7';
      const text = document.createElement('span');
      text.className = 'visually-hidden';
      text.textContent = 'Dismiss message';
      button.append(icon, text);
      button.addEventListener('click', function () {
        const main = document.getElementById('main');
        const container = alert.parentElement;
        alert.remove();
        if (container && container.classList.contains('flash') && !container.querySelector('.alert')) container.remove();
        if (main) main.focus();
      });
      alert.appendChild(button);
    });

    // --- JS-only controls -----------------------------------------------------------------
    document.querySelectorAll('[data-js-only]').forEach(function (el) {
      el.hidden = false;
    });
  }

  // --- Dialogs ---------------------------------------------------------------------------
  document.addEventListener('click', function (event) {
    const opener = closestFrom(event.target, '[data-dialog-open]');
    if (opener) {
      const dialog = document.getElementById(opener.getAttribute('data-dialog-open'));
      if (dialog && typeof dialog.showModal === 'function') {
        event.preventDefault();
        dialog.showModal();
      }
      return;
    }
    const closer = closestFrom(event.target, '[data-dialog-close]');
    if (closer) {
      const dialog = closer.closest('dialog');
      if (dialog) dialog.close();
    }
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
  // --- Canvas iframe height ------------------------------------------------------------
  if (window.parent !== window && typeof window.ResizeObserver === 'function') {
    let sent = 0;
    let pending = false;
    const report = function () {
      pending = false;
      const height = Math.ceil(document.documentElement.scrollHeight);
      if (Math.abs(height - sent) < 2) return;
      sent = height;
      // The height is not secret, and Canvas's origin is not known to the page: '*' is what Canvas documents.
      window.parent.postMessage({ subject: 'lti.frameResize', height: height }, '*');
    };
    new window.ResizeObserver(function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(report);
    }).observe(document.body);
  }
})();
