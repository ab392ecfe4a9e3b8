// The report page: its print button (the page itself is drawn on the server).

const button = document.getElementById("print-report");
if (button) button.addEventListener("click", () => window.print());
