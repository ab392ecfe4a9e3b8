// The organizer page's calls to the HTTP API: every one names the page in X-Runsheet-Page,
// so the server takes the organizer's HttpOnly cookie as its token (a cookie alone
// authorizes nothing). Answers come back as {ok, status, body}; this never throws.

const PAGE = "organizer";
export const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/**
 * Call the API: method, path (with its query), and a JSON body or a Blob/File body.
 * Resolve {ok, status, body, blob?}; a failed network gives status 0 and kind "offline".
 */
export async function callApi(method, path, { json, blob, contentType, asBlob = false } = {}) {
  const headers = { "X-Runsheet-Page": PAGE, Accept: asBlob ? "*/*" : "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (blob !== undefined) {
    headers["Content-Type"] = contentType || blob.type || "application/octet-stream";
    body = blob;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "same-origin", cache: "no-store" });
  } catch {
    return { ok: false, status: 0, body: { kind: "offline", error: "no answer from the server" } };
  }
  if (asBlob && response.ok) {
    return { ok: true, status: response.status, blob: await response.blob(), headers: response.headers };
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = { kind: response.ok ? "invalid" : "other", error: response.statusText };
  }
  return { ok: response.ok, status: response.status, body: answer || {} };
}

/** Return a path with a query built from an object (empty values left out). */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Save a downloaded Blob under a file name (through a temporary link). */
export function saveBlob(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Return the file name a response's Content-Disposition gives, or the fallback. */
export function fileNameOf(headers, fallback) {
  const disposition = (headers && headers.get("Content-Disposition")) || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      /* a malformed name: use the plain one */
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : fallback;
}
