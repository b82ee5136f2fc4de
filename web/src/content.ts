// Claude's side of a conversation, from a message's content blocks: text as Markdown,
// tool calls as cards, thinking folded away; and tool results put into their cards.
// Shared by live runs (the CLI's lines) and imported history (a stored transcript).

import { h } from "./dom";
import { markdown } from "./markdown";
import { ToolCard } from "./tools";

/** Append an ``assistant`` message's blocks to ``body``; its tool cards go in ``tools``. */
export function appendAssistant(body: HTMLElement, content: unknown, seq: number, tools: Map<string, ToolCard>): void {
  for (const block of Array.isArray(content) ? content : []) {
    if (block?.type === "text" && block.text) {
      const text = markdown(String(block.text));
      text.classList.add("assistant");
      text.dataset.seq = String(seq);
      body.appendChild(text);
    } else if (block?.type === "tool_use") {
      const card = new ToolCard({ id: block.id, name: block.name, input: block.input ?? {} });
      card.element.dataset.seq = String(seq);
      tools.set(block.id, card);
      body.appendChild(card.element);
    } else if (block?.type === "thinking" && block.thinking) {
      body.appendChild(h("details", { class: "thinking", "data-seq": seq }, h("summary", {}, "Thinking"), h("pre", {}, String(block.thinking))));
    }
  }
}

/** Put the tool results of a ``user`` message's content into their cards. */
export function applyToolResults(content: unknown, tools: Map<string, ToolCard>): void {
  for (const block of Array.isArray(content) ? content : []) {
    if (block?.type === "tool_result") tools.get(block.tool_use_id)?.setResult(block.content, Boolean(block.is_error));
  }
}
