// Tool calls as collapsible cards: Bash with its command and output, file changes as
// diffs, the rest as formatted JSON. The result is filled in when it arrives.

import { fileChange } from "./diffview";
import { clip, h, pretty } from "./dom";

export interface ToolUse {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

const RESULT_SHOWN = 20_000;
const OPEN_BY_DEFAULT = new Set(["Bash", "Edit", "MultiEdit", "Write"]);

export function toolSummary(tool: string, input: Record<string, unknown>): string {
  if (tool === "Bash") return String(input.command ?? "");
  if (typeof input.file_path === "string") return input.file_path;
  if (typeof input.pattern === "string") return input.pattern;
  if (typeof input.url === "string") return input.url;
  return clip(JSON.stringify(input), 120);
}

export function toolInput(tool: string, input: Record<string, unknown>): HTMLElement {
  if (tool === "Bash") {
    return h("pre", { class: "command" }, `$ ${String(input.command ?? "")}`);
  }
  const change = fileChange(tool, input);
  if (change !== null) return change;
  return h("pre", { class: "json" }, pretty(input));
}

export function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part && typeof part === "object" && "text" in part ? String(part.text) : pretty(part),
      )
      .join("\n");
  }
  return content === undefined || content === null ? "" : pretty(content);
}

export class ToolCard {
  readonly element: HTMLDetailsElement;
  private readonly result: HTMLElement;

  constructor(use: ToolUse) {
    this.element = h(
      "details",
      { class: "tool", "data-tool": use.name, "data-tool-use-id": use.id },
      h(
        "summary",
        {},
        h("span", { class: "tool-name" }, use.name),
        h("span", { class: "tool-summary" }, clip(toolSummary(use.name, use.input), 160)),
        h("span", { class: "tool-state" }, "running…"),
      ),
      toolInput(use.name, use.input),
    ) as HTMLDetailsElement;
    this.element.open = OPEN_BY_DEFAULT.has(use.name);
    this.result = h("pre", { class: "tool-result", hidden: true });
    this.element.appendChild(this.result);
  }

  setResult(content: unknown, isError: boolean): void {
    const text = resultText(content);
    this.result.textContent = clip(text, RESULT_SHOWN);
    this.result.hidden = text.length === 0;
    this.element.classList.toggle("failed", isError);
    const state = this.element.querySelector(".tool-state");
    if (state !== null) state.textContent = isError ? "error" : "done";
  }
}
