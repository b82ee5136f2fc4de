// A unified diff of a file change (Edit, MultiEdit, Write), line by line.

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
