// Every role's link with its QR image and a copy button, and rotating one role's token
// (its old link stops working at once; the others keep theirs).

import { confirmAction } from "./confirm.js";
import { byId, setText } from "./dom.js";
import { callApi } from "./organizer-api.js";

export function startLinks({ t, editor, pointsNow }) {
  const list = byId("links-list");
  const status = byId("links-status");
  let links = null;

  const say = (text, state) => {
    setText(status, text);
    status.dataset.state = state;
  };

  async function refresh() {
    const answer = await callApi("GET", "/api/v1/links");
    if (!answer.ok) {
      say(t("organizer.links.unavailable", { reason: editor.reason(answer) }), "error");
      return;
    }
    links = answer.body.links && typeof answer.body.links === "object" ? answer.body.links : answer.body;
    if (status.dataset.state === "error") say("", "ok");
    draw();
  }

  function rows() {
    const result = [];
    if (links.organizer) result.push({ key: "organizer", name: t("organizer.links.organizer"), url: links.organizer, rotate: { role: "organizer" } });
    if (links.mc) result.push({ key: "mc", name: t("organizer.links.mc"), url: links.mc, rotate: { role: "mc" } });
    if (links.public) result.push({ key: "public", name: t("organizer.links.public"), url: links.public });
    if (links.stage) result.push({ key: "stage", name: t("organizer.links.stage"), url: links.stage });
    // The points in the plan's order (the answer's keys come sorted), any others after.
    const points = pointsNow();
    const urls = links.points || {};
    const ids = [...points.map((point) => point.id).filter((id) => id in urls), ...Object.keys(urls).filter((id) => !points.some((point) => point.id === id))];
    const names = new Map(points.map((point) => [point.id, point.name]));
    for (const id of ids) {
      result.push({ key: `point:${id}`, name: names.get(id) || id, url: urls[id], rotate: { role: "point", point_id: id } });
    }
    return result;
  }

  function draw() {
    list.replaceChildren(...rows().map(row));
  }

  function row(link) {
    const item = document.createElement("li");
    item.className = "org-link";
    item.dataset.key = link.key;
    const qr = document.createElement("img");
    qr.className = "org-qr";
    qr.alt = t("organizer.links.qr_alt", { name: link.name });
    qr.width = 96;
    qr.height = 96;
    qr.loading = "lazy";
    qr.src = `/organizer/qr.svg?link=${encodeURIComponent(link.key)}`;
    qr.addEventListener("error", () => {
      qr.hidden = true;
    });
    const body = document.createElement("div");
    body.className = "org-link-body";
    const name = document.createElement("span");
    name.className = "org-link-name user-text";
    name.textContent = link.name;
    const inputId = `link-${link.key.replace(/[^a-z0-9-]/g, "-")}`;
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = inputId;
    label.textContent = t("organizer.links.address_of", { name: link.name });
    const address = document.createElement("input");
    address.id = inputId;
    address.className = "org-link-url";
    address.readOnly = true;
    address.value = link.url;
    address.addEventListener("focus", () => address.select());
    const tools = document.createElement("div");
    tools.className = "org-link-tools";
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "button button-small button-secondary";
    copy.textContent = t("organizer.links.copy");
    copy.setAttribute("aria-label", t("organizer.links.copy_label", { name: link.name }));
    copy.addEventListener("click", () => copyLink(link, address));
    tools.append(copy);
    if (link.rotate) {
      const rotate = document.createElement("button");
      rotate.type = "button";
      rotate.className = "button button-small button-danger";
      rotate.textContent = t("organizer.links.rotate");
      rotate.setAttribute("aria-label", t("organizer.links.rotate_label", { name: link.name }));
      rotate.addEventListener("click", () => rotateLink(link));
      tools.append(rotate);
    }
    body.append(name, label, address, tools);
    item.append(qr, body);
    return item;
  }

  async function copyLink(link, address) {
    try {
      await navigator.clipboard.writeText(link.url);
    } catch {
      address.focus();
      address.select();
      document.execCommand("copy"); // an http:// address gives no clipboard API
    }
    say(t("organizer.links.copied", { name: link.name }), "ok");
  }

  async function rotateLink(link) {
    const own = link.rotate.role === "organizer";
    const sure = await confirmAction({
      title: t("organizer.links.rotate_title", { name: link.name }),
      text: t(own ? "organizer.links.rotate_own_text" : "organizer.links.rotate_text", { name: link.name }),
      ok: t("organizer.links.rotate"),
    });
    if (!sure) return;
    const answer = await callApi("POST", "/api/v1/links/rotate", { json: link.rotate });
    if (!answer.ok) {
      say(t("organizer.links.rotate_failed", { reason: editor.reason(answer) }), "error");
      return;
    }
    if (own) {
      // This page's own cookie died with the old token: open the new link to keep working.
      const fresh = (answer.body.links && answer.body.links.organizer) || answer.body.organizer || answer.body.link;
      if (fresh) {
        editor.baseline = JSON.stringify(editor.payload());
        window.location.assign(fresh);
        return;
      }
    }
    say(t("organizer.links.rotated", { name: link.name }), "ok");
    await refresh();
  }

  refresh();
  return { refresh };
}
