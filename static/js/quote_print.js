// The quote's print page: the button opens the browser's print dialog (print or save as PDF).
document.getElementById("print-button").addEventListener("click", () => window.print());
