// Accord console: a little progressive enhancement, nothing the pages need to work.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Move keyboard and screen-reader focus to the first alert, so errors are announced.
  var alert = document.querySelector("[role=alert]");
  if (alert) {
    alert.setAttribute("tabindex", "-1");
    alert.focus();
  }
  // Ask before denying a release.
  document.querySelectorAll("button.danger").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm("Deny this release? The reason is recorded in the audit log.")) {
        event.preventDefault();
      }
    });
  });
});
