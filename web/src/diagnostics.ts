// The open project's diagnostics, as clients published them (diagnostics.publish):
// per file, each with its severity, where it is (line:column, counted from 1), its
// message and what found it. Worst first; hidden while no file has any.

import { h } from "./dom";
import type { Diagnostic, DiagnosticsInfo } from "./wire";

const SEVERITIES = ["", "error", "warning", "info", "hint"] as const;

/** LSP's severity (1 error … 4 hint) in words; none given counts as an error. */
export function severityName(severity: number | null | undefined): string {
  return SEVERITIES[severity ?? 1] || "error";
}

/** "12:5": where a diagnostic starts, as editors count (LSP counts from 0). */
export function position(diagnostic: Diagnostic): string {
  const { line, character } = diagnostic.range.start;
  return `${line + 1}:${character + 1}`;
}

/** "3 errors, 1 warning". */
export function countsText(diagnostics: readonly Diagnostic[]): string {
  const counts = new Map<string, number>();
  for (const diagnostic of diagnostics) {
    const name = severityName(diagnostic.severity);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const plural = (name: string, n: number) => (name === "info" ? `${n} info` : `${n} ${name}${n === 1 ? "" : "s"}`);
  return SEVERITIES.filter((name) => counts.has(name)).map((name) => plural(name, counts.get(name) ?? 0)).join(", ");
}

export function renderDiagnostics(section: HTMLElement, files: readonly DiagnosticsInfo[]): void {
  const shown = files.filter((file) => file.diagnostics.length > 0).sort((a, b) => a.path.localeCompare(b.path));
  section.hidden = shown.length === 0;
  if (section.hidden) {
    section.replaceChildren();
    return;
  }
  const all = shown.flatMap((file) => file.diagnostics);
  section.replaceChildren(
    h("h2", {}, "Diagnostics", h("span", { class: "count" }, countsText(all))),
    h("ul", { class: "diagnostic-files" }, ...shown.map(fileItem)),
  );
}

function fileItem(file: DiagnosticsInfo): HTMLElement {
  const sorted = [...file.diagnostics].sort(
    (a, b) => (a.severity ?? 1) - (b.severity ?? 1) || a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
  );
  return h(
    "li",
    { class: "diagnostic-file", "data-path": file.path },
    h("div", { class: "file-path" }, file.path),
    h("ul", {}, ...sorted.map(diagnosticItem)),
  );
}

function diagnosticItem(diagnostic: Diagnostic): HTMLElement {
  const severity = severityName(diagnostic.severity);
  const code = diagnostic.code ?? null;
  const source = [diagnostic.source ?? "", code === null ? "" : String(code)].filter(Boolean).join(" ");
  return h(
    "li",
    { class: "diagnostic", "data-severity": severity },
    h("span", { class: `severity ${severity}` }, severity),
    h("span", { class: "where" }, position(diagnostic)),
    h("span", { class: "message" }, diagnostic.message),
    source ? h("span", { class: "source" }, source) : null,
  );
}
