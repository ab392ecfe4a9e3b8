// The plan as spreadsheets: download it as xlsx (headers in the page's language), the
// blank template, the programme as CSV; upload a workbook or a programme CSV in its place
// (through the same checks; problems name the sheet, row and column).

import { confirmAction } from "./confirm.js";
import { byId, setText, show } from "./dom.js";
import { XLSX_TYPE, callApi, fileNameOf, saveBlob, withQuery } from "./organizer-api.js";

const CSV_TYPE = "text/csv; charset=utf-8";

export function startSpreadsheets({ t, lang, editor }) {
  const status = byId("sheet-status");
  const problems = byId("sheet-problems");

  const say = (text, state) => {
    setText(status, text);
    status.dataset.state = state;
  };

  async function download(path, fallbackName) {
    say(t("organizer.sheets.downloading"), "busy");
    const answer = await callApi("GET", path, { asBlob: true });
    if (!answer.ok) {
      say(t("organizer.sheets.download_failed", { reason: editor.reason(answer) }), "error");
      return;
    }
    saveBlob(answer.blob, fileNameOf(answer.headers, fallbackName));
    say(t("organizer.sheets.downloaded"), "ok");
  }

  byId("download-xlsx").addEventListener("click", () => download(withQuery("/api/v1/plan.xlsx", { lang }), "plan.xlsx"));
  byId("download-template").addEventListener("click", () =>
    download(withQuery("/api/v1/plan.xlsx", { template: 1, lang }), "plan-template.xlsx"),
  );
  byId("download-csv").addEventListener("click", () => download(withQuery("/api/v1/plan/agenda.csv", { lang }), "agenda.csv"));

  async function upload(input, path, contentType) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    if (editor.isDirty()) {
      const sure = await confirmAction({
        title: t("organizer.sheets.replace_title"),
        text: t("organizer.sheets.replace_text"),
        ok: t("organizer.sheets.replace_ok"),
      });
      if (!sure) return;
    }
    say(t("organizer.sheets.uploading", { name: file.name }), "busy");
    show(problems, false);
    const answer = await callApi("PUT", withQuery(path, { expected_revision: editor.revision, lang }), {
      blob: file,
      contentType,
    });
    if (answer.ok) {
      say(t("organizer.sheets.uploaded", { name: file.name }), "ok");
      await editor.load();
      return;
    }
    if (answer.status === 409) {
      say(t("organizer.sheets.stale"), "error");
      await editor.offerReload(answer.body.revision);
      return;
    }
    const found = Array.isArray(answer.body.problems) ? answer.body.problems : [];
    say(found.length ? t("organizer.sheets.refused", { count: found.length }) : t("organizer.sheets.upload_failed", { reason: editor.reason(answer) }), "error");
    problems.replaceChildren(
      ...found.map((problem) => {
        const item = document.createElement("li");
        item.textContent = whereIs(problem) + problem.message;
        return item;
      }),
    );
    show(problems, found.length > 0);
  }

  const xlsxInput = byId("upload-xlsx");
  xlsxInput.addEventListener("change", () => upload(xlsxInput, "/api/v1/plan", XLSX_TYPE));
  const csvInput = byId("upload-csv");
  csvInput.addEventListener("change", () => upload(csvInput, "/api/v1/plan/agenda.csv", CSV_TYPE));
}

/** Return where a problem is, unless its message already names the sheet, row and column. */
function whereIs(problem) {
  return !problem.sheet && problem.path ? `${problem.path}: ` : "";
}
