// Copy buttons: a button with data-copy="<element id>" copies that element's text (a
// meeting id, a passcode) and says so in #copy-status.
//
// The Clipboard API needs a secure context (https or localhost); a school's server is often
// plain http on the local network, so the older copy command is tried there.

/** Put text on the clipboard; resolve true if it got there. */
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // permission refused: try the older way
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** Make every [data-copy] button copy its element's text; t(key) gives the page's texts. */
export function enableCopyButtons(t) {
  const status = document.getElementById("copy-status");
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const copied = await copyText(source.textContent.trim());
      if (!status) return;
      status.dataset.result = copied ? "copied" : "failed";
      status.textContent = copied ? `${t("conference.copied")}: ${source.textContent.trim()}` : t("conference.copy_failed");
      if (!copied) window.getSelection().selectAllChildren(source);
    });
  }
}
