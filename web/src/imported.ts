// A stored session's history, imported into the log by ``session.use``: under a marker
// that says which session and how much of it came, the person's prompts as bubbles and
// Claude's side as in a run (text, tool cards with their results, thinking). The lines
// are the CLI's transcript, unchanged; only the person's prompts are new to a page,
// since a run's own CLI lines never repeat its prompt.

import { appendAssistant, applyToolResults } from "./content";
import { h } from "./dom";
import { apiErrorText, isApiErrorMessage } from "./notes";
import type { ToolCard } from "./tools";

export interface SessionUse {
  session_id?: string | null;
  imported?: number;
  omitted?: number;
  too_long?: number;
}

/** "Earlier history from session X (N lines imported, M older left out)". */
export function importMarker(use: SessionUse): string {
  const imported = Number(use.imported ?? 0);
  const omitted = Number(use.omitted ?? 0);
  const tooLong = Number(use.too_long ?? 0);
  const older =
    (omitted > 0 ? `, ${omitted} older left out` : "") + (tooLong > 0 ? `, ${tooLong} too long to import` : "");
  const session = use.session_id ? `session ${use.session_id}` : "a stored session";
  return `Earlier history from ${session} (${imported} line${imported === 1 ? "" : "s"} imported${older})`;
}

/** The text a person typed, if a transcript line is such a prompt: a ``user`` line with
 *  text content, not a tool's result, nor one of the CLI's own notes (``<command-…>``,
 *  ``<local-command-stdout>``, reminders: they start with ``<``). */
export function personsPrompt(line: any): string | null {
  if (line?.type !== "user" || line.isMeta || line.isSidechain) return null;
  let content = line.message?.content;
  if (Array.isArray(content)) {
    if (content.some((block: any) => block?.type === "tool_result")) return null;
    content = content
      .filter((block: any) => block?.type === "text" && typeof block.text === "string")
      .map((block: any) => block.text as string)
      .join("\n");
  }
  if (typeof content !== "string" || content.trim() === "" || content.trimStart().startsWith("<")) return null;
  return content;
}

/** One imported session: its marker, then a turn per prompt of the person's. */
export class ImportedHistory {
  readonly element: HTMLElement;
  /** Where Claude's lines go: the latest turn's body (before any prompt: the section). */
  private body: HTMLElement;

  constructor(
    use: SessionUse,
    seq: number,
    private readonly tools: Map<string, ToolCard>,
  ) {
    this.element = h(
      "section",
      { class: "imported", "data-seq": seq, "data-session": use.session_id ?? null },
      h("div", { class: "note divider import-marker" }, importMarker(use)),
    );
    this.body = this.element;
  }

  /** One imported line, in seq order. */
  add(line: any, seq: number): void {
    if (line?.type === "user") {
      const prompt = personsPrompt(line);
      if (prompt !== null) this.startTurn(prompt, seq);
      else applyToolResults(line.message?.content, this.tools);
    } else if (line?.type === "assistant" && isApiErrorMessage(line)) {
      this.body.appendChild(h("div", { class: "note api-error", "data-seq": seq }, apiErrorText(line)));
    } else if (line?.type === "assistant") {
      appendAssistant(this.body, line.message?.content, seq, this.tools);
    }
  }

  private startTurn(prompt: string, seq: number): void {
    this.body = h("div", { class: "run-body" });
    this.element.appendChild(
      h("div", { class: "turn", "data-seq": seq }, h("div", { class: "prompt" }, h("div", { class: "prompt-text" }, prompt)), this.body),
    );
  }
}
