// One-line texts of the conversation's notes (and of notifications): what a
// confirmation asks, a skill's progress, the CLI retrying the API, and how to tell the
// CLI's own report of an API error from Claude's text.

import { retryError, type ApiRetry } from "./activity";
import { clip } from "./dom";
import type { ConfirmationInfo } from "./wire";
import { toolSummary } from "./tools";

/** What a confirmation asks, in one line (the conversation's note, a notification). */
export function confirmationLine(asked: ConfirmationInfo): string {
  switch (asked.kind) {
    case "skill":
      return `${asked.skill?.skill_id} asks: ${asked.skill?.prompt}`;
    case "question":
      return "Claude asks a question";
    case "plan":
      return "Claude asks to approve its plan";
    case "approval":
      return `Claude asks to approve its changes: ${clip(asked.approval?.summary ?? "", 100)}`;
    default:
      return `Claude asks to use ${asked.tool_name}: ${clip(toolSummary(asked.tool_name ?? "", asked.input ?? {}), 100)}`;
  }
}

/** One line per skill event; ``data`` is the event as a producer sent it. */
export function skillLine(data: any): string {
  const skill = data.skill_id;
  const step = `${skill} step ${data.step_index}${data.name ? ` ${data.name}` : ""}`;
  const took = typeof data.duration_ms === "number" ? ` (${data.duration_ms} ms)` : "";
  switch (data.type) {
    case "skill_started":
      return `Skill ${skill} (${data.name}) started, ${data.total_steps} steps`;
    case "skill_completed":
      return `Skill ${skill} completed${took}`;
    case "skill_failed":
      return `Skill ${skill} failed: ${data.error}`;
    case "step_started":
      return `${step} started`;
    case "step_completed":
      return `${step} done${took}`;
    case "step_failed":
      return `${step} failed: ${data.error}`;
    case "auto_heal_triggered":
      return `Auto-heal ${data.heal_type} for ${skill}: ${data.action}`;
    case "auto_heal_completed":
      return `Auto-heal for ${skill} ${data.success ? "succeeded" : "failed"}`;
    case "memory_query_started":
      return `Memory query: ${clip(String(data.query), 80)}`;
    case "memory_query_completed":
      return `Memory query ${data.query_id}: ${data.result_count ?? 0} results`;
    case "intent_classified":
      return `Intent: ${data.intent}`;
    default:
      return String(data.type);
  }
}

/** A ``system/api_retry`` line: "API overloaded (529): retry 2 of 10 after 1.1 s". */
export function retryLine(retry: ApiRetry): string {
  return `API ${retryError(retry)}: retry ${retry.attempt} of ${retry.maxRetries} after ${(retry.delayMs / 1000).toFixed(1)} s`;
}

/** Whether an ``assistant`` line is the CLI reporting an API error in Claude's name
 *  (its text is also the run's error): CLI 2.1.330 flags it ``is_api_error_message``,
 *  2.1.197 only sets ``error`` on a message of the model ``<synthetic>``. */
export function isApiErrorMessage(data: any): boolean {
  return data.is_api_error_message === true || (typeof data.error === "string" && data.message?.model === "<synthetic>");
}

/** The text of such a report. */
export function apiErrorText(data: any): string {
  const content = data.message?.content;
  const blocks: any[] = Array.isArray(content) ? content : [];
  return blocks.map((block) => String(block?.text ?? "")).join("\n").trim();
}

/** The head of a run Claude began by itself, when background work finished (in the
 *  words of the ``task_notification`` lines that woke it, when it had any). */
export function carriedOnLine(summaries: readonly string[]): string {
  return summaries.length === 0 ? "Claude carried on by itself" : `Claude carried on by itself: ${summaries.join("; ")}`;
}
