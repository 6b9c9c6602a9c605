// The idle-timeout warning and draft flushing (accounts.middleware, casework.drafts).
//
// A signed-in page knows how many seconds its session has left. Shortly before the end it
// asks the server again (another tab may have been busy; asking does not count as
// activity) and, if the end is near, opens a dialog with a button that extends the
// session. If nobody answers, the page reloads itself at the end: the server signs the
// person out and the sign-in page brings them back to this page, where the draft of what
// they typed is restored. A language switch saves the draft first, so no text is lost.
(function () {
  "use strict";
  var dialog = document.getElementById("session-warning");
  if (!dialog) return;
  var warning = Number(dialog.dataset.warning) * 1000;
  var deadline = Date.now() + Number(dialog.dataset.remaining) * 1000;
  var countdown = dialog.querySelector("[data-countdown]");
  var draftForm = document.querySelector("form[data-draft]");
  var checkTimer = null;
  var tickTimer = null;

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function expire() {
    window.location.assign(window.location.href);
  }

  function schedule() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, Math.max(0, deadline - warning - Date.now()));
  }

  function learn(response) {
    if (response.type === "opaqueredirect" || !response.ok) {
      expire();
      return null;
    }
    return response.json().then(function (body) {
      deadline = Date.now() + body.remaining * 1000;
      return body.remaining * 1000;
    });
  }

  function check() {
    fetch(dialog.dataset.status, {credentials: "same-origin", redirect: "manual"})
      .then(learn)
      .then(function (left) {
        if (left === null || left === undefined) return;
        if (left > warning) schedule();
        else warn();
      })
      .catch(function () { warn(); });
  }

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    countdown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    if (left <= 0) {
      ended();
      return;
    }
    tickTimer = setTimeout(tick, 1000);
  }

  // The countdown ran out: ask the server (asking is no activity). Reloading at once
  // would itself count as activity if it came a moment before the server's own end, and
  // keep an unattended page signed in for ever.
  function ended() {
    fetch(dialog.dataset.status, {credentials: "same-origin", redirect: "manual"})
      .then(learn)
      .then(function (left) {
        if (left === null || left === undefined) return; // signed out: learn() reloaded
        if (left > warning) {
          clearTimeout(tickTimer);
          dialog.close();
          schedule();
        } else {
          tickTimer = setTimeout(tick, Math.min(Math.max(left, 1000), 5000));
        }
      })
      .catch(function () { tickTimer = setTimeout(ended, 5000); });
  }

  function warn() {
    if (!dialog.open) dialog.showModal();
    clearTimeout(tickTimer);
    tick();
  }

  function extend() {
    return fetch(dialog.dataset.extend, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: {"X-CSRFToken": csrfToken()},
    }).then(learn);
  }

  // Typing is someone at the keyboard, on any page (a form without drafts too): the
  // session is extended, at most once a minute.
  var lastExtended = Date.now();
  document.addEventListener("input", function () {
    if (dialog.open || Date.now() - lastExtended < 60000) return;
    lastExtended = Date.now();
    extend().then(schedule, function () {});
  });

  dialog.querySelector("[data-extend]").addEventListener("click", function () {
    fetch(dialog.dataset.extend, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: {"X-CSRFToken": csrfToken()},
    })
      .then(learn)
      .then(function (left) {
        if (left === null || left === undefined) return;
        clearTimeout(tickTimer);
        dialog.close();
        schedule();
      });
  });

  // Which warning the dialog gives: a form keeping a draft, or text that would be lost.
  if (!document.querySelector("form[data-draft]")) {
    var kept = dialog.querySelector("[data-draft-kept]");
    var lost = dialog.querySelector("[data-draft-lost]");
    if (kept && lost) {
      kept.hidden = true;
      lost.hidden = false;
    }
  }

  // Any request of this page that reached the server (a draft saved) restarted the clock.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      deadline = Date.now() + Number(dialog.dataset.idle) * 1000;
      schedule();
    }
  });

  // A draft that could not be saved says why, where the saved time would show.
  document.body.addEventListener("htmx:responseError", function (event) {
    var target = event.detail.target;
    if (target) target.textContent = dialog.dataset.draftFailed;
  });

  // Text typed less than a second before the tab is closed: sent as the page goes. Not
  // after the form itself was submitted (that save discards the draft).
  if (draftForm) {
    var dirty = false;
    draftForm.addEventListener("input", function () { dirty = true; });
    draftForm.addEventListener("submit", function () { dirty = false; });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt === draftForm && event.detail.successful) dirty = false;
    });
    window.addEventListener("pagehide", function () {
      if (dirty && navigator.sendBeacon) {
        navigator.sendBeacon(draftForm.getAttribute("hx-post"), new FormData(draftForm));
      }
    });
  }

  // Switching the language reloads the page: save the draft first.
  var languageForm = document.querySelector("form[data-language]");
  if (languageForm && draftForm) {
    languageForm.addEventListener("submit", function (event) {
      if (languageForm.dataset.flushed) return;
      event.preventDefault();
      var submitter = event.submitter;
      var done = function () {
        languageForm.dataset.flushed = "1";
        languageForm.requestSubmit(submitter);
      };
      fetch(draftForm.getAttribute("hx-post"), {
        method: "POST",
        credentials: "same-origin",
        body: new FormData(draftForm),
      }).then(done, done);
    });
  }

  schedule();
})();
