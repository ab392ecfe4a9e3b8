// Printable pages (the link sheet, the invitations, the audit log): a button prints the page.
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
