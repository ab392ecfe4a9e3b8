// A confirmation dialog of our own (window.confirm would freeze the live page).

import { byId } from "./dom.js";

/** Ask a question in the #confirm dialog; resolve true if the user confirms. */
export function confirmAction({ title, text, ok }) {
  const dialog = byId("confirm");
  const okButton = byId("confirm-ok");
  const cancelButton = byId("confirm-cancel");
  byId("confirm-title").textContent = title;
  byId("confirm-text").textContent = text;
  okButton.textContent = ok;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const finish = (answer) => {
      okButton.removeEventListener("click", onOk);
      cancelButton.removeEventListener("click", onCancel);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      if (opener && typeof opener.focus === "function" && document.contains(opener)) opener.focus();
      resolve(answer);
    };
    const onOk = () => finish(true);
    const onCancel = () => finish(false);
    const onClose = () => finish(false); // Escape
    okButton.addEventListener("click", onOk);
    cancelButton.addEventListener("click", onCancel);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    // Cancel has the focus: a Space or Enter pressed out of habit must not confirm.
    cancelButton.focus();
  });
}

/** Return whether a confirmation dialog is open. */
export function confirmOpen() {
  const dialog = document.getElementById("confirm");
  return Boolean(dialog && dialog.open);
}
