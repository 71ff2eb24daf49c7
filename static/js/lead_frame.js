// The public lead form inside another site's frame: tells the embedding page how tall the
// form is whenever that changes (errors shown, thanks page), so the embed code's script
// (lead_embed.js) fits the frame to it instead of cutting it or leaving a gap.
(function () {
  "use strict";
  if (window.parent === window) return;
  var main = document.querySelector("main");
  if (!main) return;
  var last = 0;
  function report() {
    var height = Math.ceil(main.getBoundingClientRect().bottom + window.scrollY);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ crmLeadFormHeight: height }, "*");
  }
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  if (window.ResizeObserver) new ResizeObserver(report).observe(main);
  report();
})();
