// Keyboard shortcuts the pages show (casework/_shortcuts.html, the menu's key hints).
//
// Alt+<key> activates the element whose accesskey is that key, in every browser alike
// (browsers differ: Alt, Alt+Shift, Control+Option); Ctrl+Enter (⌘+Enter on a Mac)
// saves the form that says so, from any of its fields, textareas included.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey && /^Key[A-Z]$/.test(event.code)) {
      var key = event.code.slice(3).toLowerCase();
      var target = document.querySelector('[accesskey="' + key + '"]');
      if (!target) return;
      event.preventDefault();
      if (target.matches("input, select, textarea")) target.focus();
      else target.click();
      return;
    }
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("form[data-shortcuts]");
    if (!form) return;
    event.preventDefault();
    form.requestSubmit(form.querySelector("button[type=submit].primary") || undefined);
  });
})();
