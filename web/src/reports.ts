// What Claude shows and tells the people watching, in the conversation: a change it
// proposes (show_diff), as a titled diff, and a notification (notify_user).

import { unifiedDiffView } from "./diffview";
import { h } from "./dom";
import type { DiffPreview, NotificationEvent } from "./wire";

const LEVEL_MARKS: Record<string, string> = { info: "ℹ", success: "✓", warning: "⚠", error: "✗" };

export function diffPreviewBlock(preview: DiffPreview, seq: number): HTMLElement {
  const { change } = preview;
  return h(
    "figure",
    { class: "diff-preview", "data-seq": seq, "data-path": change.path },
    h("figcaption", {}, h("span", { class: "label" }, "Proposed change"), preview.title ? ` ${preview.title}` : ""),
    unifiedDiffView(change.path, change.diff, { newFile: change.new_file, truncated: change.truncated }),
  );
}

export function notificationNote(notification: NotificationEvent, seq: number): HTMLElement {
  const level = notification.level ?? "info";
  return h(
    "div",
    { class: "notification", "data-level": level, "data-seq": seq, role: "note" },
    h("span", { class: "mark", "aria-hidden": "true" }, LEVEL_MARKS[level] ?? "ℹ"),
    h("span", { class: "message" }, notification.message),
  );
}
