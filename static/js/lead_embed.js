// Loaded by the page that embeds a lead form (the embed code's second line): sets each
// lead form frame's height to what the form reports (lead_frame.js), within sane bounds.
(function () {
  "use strict";
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data.crmLeadFormHeight !== "number") return;
    var frames = document.querySelectorAll("iframe[data-crm-lead-form]");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        var height = Math.min(Math.max(Math.round(data.crmLeadFormHeight), 120), 4000);
        frames[i].style.height = height + "px";
      }
    }
  });
})();
