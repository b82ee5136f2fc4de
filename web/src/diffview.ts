// File changes line by line: a tool's change (Edit, MultiEdit, Write) diffed from its
// before and after texts, and a unified diff as the server sends one (an approval's
// changes, a diff preview).

import { diffLines } from "diff";
import { h } from "./dom";

export function diffView(path: string, before: string, after: string): HTMLElement {
  const table = h("div", { class: "diff", "data-path": path });
  table.appendChild(h("div", { class: "diff-path" }, path));
  let oldLine = 1;
  let newLine = 1;
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, "").split("\n");
    for (const line of lines) {
      if (part.added) {
        table.appendChild(row("add", "", String(newLine++), "+", line));
      } else if (part.removed) {
        table.appendChild(row("del", String(oldLine++), "", "-", line));
      } else {
        table.appendChild(row("same", String(oldLine++), String(newLine++), " ", line));
      }
    }
  }
  return table;
}

export interface UnifiedDiffOptions {
  /** The file does not exist yet. */
  newFile?: boolean;
  /** The diff was cut to a size limit. */
  truncated?: boolean;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
/** Lines of a file's header, between hunks (git's extended ones too). */
const FILE_HEADER = /^(--- |\+\+\+ |diff |index |new file|deleted file|old mode|new mode|similarity |rename |Binary )/;

/** A unified diff's text, line by line: its hunk headers (``@@ … @@``), added, removed
 *  and unchanged lines numbered from the hunks; the file's other header lines (git's
 *  ``diff``, ``index`` …) and ``\ No newline at end of file`` as quiet lines. ``---``
 *  and ``+++`` are left out: the path heads the diff. */
export function unifiedDiffView(path: string, diff: string, options: UnifiedDiffOptions = {}): HTMLElement {
  const table = h("div", { class: "diff unified", "data-path": path });
  table.appendChild(h("div", { class: "diff-path" }, path, options.newFile ? h("span", { class: "diff-new" }, "new file") : null));
  if (diff.trim() === "") {
    table.appendChild(h("div", { class: "diff-empty" }, "No change"));
    return table;
  }
  let oldLine = 1;
  let newLine = 1;
  let oldLeft = 0; // lines of the current hunk still to come, on each side
  let newLeft = 0;
  const lines = diff.replace(/\n$/, "").split("\n");
  for (const line of lines) {
    const hunk = HUNK.exec(line);
    if (hunk !== null) {
      oldLine = Number(hunk[1]);
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newLine = Number(hunk[3]);
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      if (oldLeft === 0) oldLine++; // "-0,0": the lines that follow start at 1
      if (newLeft === 0) newLine++;
      table.appendChild(row("hunk", "", "", "", line));
    } else if ((oldLeft <= 0 && newLeft <= 0 && FILE_HEADER.test(line)) || line.startsWith("\\")) {
      if (!/^(---|\+\+\+) /.test(line)) table.appendChild(row("meta", "", "", "", line));
    } else if (line.startsWith("+")) {
      table.appendChild(row("add", "", String(newLine++), "+", line.slice(1)));
      newLeft--;
    } else if (line.startsWith("-")) {
      table.appendChild(row("del", String(oldLine++), "", "-", line.slice(1)));
      oldLeft--;
    } else {
      table.appendChild(row("same", String(oldLine++), String(newLine++), " ", line.slice(1)));
      oldLeft--;
      newLeft--;
    }
  }
  if (options.truncated) table.appendChild(h("div", { class: "diff-truncated" }, "… the diff was cut here (too long to show in full)"));
  return table;
}

function row(kind: string, oldNo: string, newNo: string, sign: string, text: string): HTMLElement {
  return h(
    "div",
    { class: `diff-line ${kind}` },
    h("span", { class: "ln" }, oldNo),
    h("span", { class: "ln" }, newNo),
    h("span", { class: "sign" }, sign),
    h("span", { class: "text" }, text),
  );
}

interface EditLike {
  old_string?: unknown;
  new_string?: unknown;
}

/** The diffs a tool input describes, or null when it changes no file. */
export function fileChange(tool: string, input: Record<string, unknown>): HTMLElement | null {
  const path = String(input.file_path ?? "");
  if (tool === "Edit") {
    return diffView(path, String(input.old_string ?? ""), String(input.new_string ?? ""));
  }
  if (tool === "Write") {
    return diffView(path, "", String(input.content ?? ""));
  }
  if (tool === "MultiEdit" && Array.isArray(input.edits)) {
    const all = h("div", { class: "diffs" });
    for (const edit of input.edits as EditLike[]) {
      all.appendChild(diffView(path, String(edit.old_string ?? ""), String(edit.new_string ?? "")));
    }
    return all;
  }
  return null;
}
