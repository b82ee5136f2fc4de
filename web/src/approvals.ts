// A pending confirmation as a card: what is asked (a tool with its input or diff, a
// question with options, a plan, a skill's question, Claude's changes with their
// diffs), the answers, "remember", and the countdown with pause and resume.

import { unifiedDiffView } from "./diffview";
import { append, h } from "./dom";
import { markdown } from "./markdown";
import type { ConfirmationInfo } from "./wire";
import { toolInput } from "./tools";

export interface Answer {
  response: string;
  remember?: boolean;
  message?: string;
  answers?: Record<string, string>;
}

export interface ApprovalActions {
  answer(confirmation: ConfirmationInfo, answer: Answer): void;
  pause(confirmation: ConfirmationInfo, paused: boolean): void;
}

interface Question {
  question: string;
  header?: string;
  options?: { label: string; description?: string }[];
}

/** A pending confirmation as the server last described it, and when that arrived. */
export interface Pending {
  info: ConfirmationInfo;
  receivedAt: number;
}

/** Seconds left, counted down locally from the last value the server sent. */
export function secondsLeft(pending: Pending, now: number = Date.now()): number {
  const { info } = pending;
  if (info.paused) return info.remaining_seconds;
  return Math.max(0, info.remaining_seconds - (now - pending.receivedAt) / 1000);
}

function countdownLabel(pending: Pending): string {
  const left = Math.ceil(secondsLeft(pending));
  const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  return pending.info.paused ? `${text} (paused)` : text;
}

/** A card; ``update`` changes its countdown in place, keeping what was typed. */
export class ApprovalCard {
  readonly element: HTMLElement;
  private readonly timer: HTMLElement;
  private readonly pauseButton: HTMLElement;

  constructor(
    private pending: Pending,
    actions: ApprovalActions,
  ) {
    const confirmation = pending.info;
    this.timer = h("span", { class: "countdown" }, countdownLabel(pending));
    this.pauseButton = h(
      "button",
      { class: "pause", type: "button", onclick: () => actions.pause(this.pending.info, !this.pending.info.paused) },
    );
    this.element = h(
      "article",
      { class: `approval ${confirmation.kind}`, "data-confirmation": confirmation.id },
      h("header", {}, h("strong", {}, title(confirmation)), this.timer, this.pauseButton),
      body(confirmation),
      answers(confirmation, actions),
    );
    this.update(pending);
  }

  update(pending: Pending): void {
    this.pending = pending;
    this.pauseButton.textContent = pending.info.paused ? "Resume timer" : "Pause timer";
    this.tick();
  }

  tick(): void {
    this.timer.textContent = countdownLabel(this.pending);
  }
}

function title(confirmation: ConfirmationInfo): string {
  switch (confirmation.kind) {
    case "question":
      return "Claude asks";
    case "plan":
      return "Claude has a plan";
    case "approval":
      return "Claude asks you to approve its changes";
    case "skill":
      return `Skill ${confirmation.skill?.skill_id ?? ""} asks`;
    default:
      return `Allow ${confirmation.tool_name}?`;
  }
}

function body(confirmation: ConfirmationInfo): HTMLElement {
  const input = confirmation.input ?? {};
  if (confirmation.kind === "skill") {
    const hint = confirmation.skill?.claude_suggestion;
    return h(
      "div",
      { class: "asked" },
      h("p", {}, confirmation.skill?.prompt ?? ""),
      hint ? h("p", { class: "hint" }, `Claude suggests: ${hint}`) : null,
    );
  }
  if (confirmation.kind === "plan") {
    const plan = confirmation.plan ?? input.plan;
    return plan ? markdown(String(plan)) : h("p", { class: "hint" }, "Claude did not say what the plan is.");
  }
  if (confirmation.kind === "question") {
    return h("div", { class: "asked" });
  }
  if (confirmation.kind === "approval") {
    const approval = confirmation.approval;
    const changes = approval?.changes ?? [];
    return h(
      "div",
      { class: "asked" },
      approval?.summary ? markdown(approval.summary) : h("p", { class: "hint" }, "Claude did not say what the changes are."),
      h(
        "div",
        { class: "changes" },
        ...changes.map((change) => unifiedDiffView(change.path, change.diff, { newFile: change.new_file, truncated: change.truncated })),
      ),
    );
  }
  const tool = confirmation.tool_name ?? "";
  return h(
    "div",
    { class: "asked" },
    toolInput(tool, input),
    tool === "Bash" && input.description ? h("p", { class: "hint" }, String(input.description)) : null,
  );
}

function answers(confirmation: ConfirmationInfo, actions: ApprovalActions): HTMLElement {
  const box = h("div", { class: "answers" });
  if (confirmation.kind === "question") {
    const questions = (confirmation.input.questions ?? []) as Question[];
    const chosen: Record<string, string> = {};
    for (const question of questions) {
      const free = h("input", { type: "text", placeholder: "or type an answer", "aria-label": question.question }) as HTMLInputElement;
      const send = (label: string) => {
        chosen[question.question] = label;
        if (questions.length === 1) actions.answer(confirmation, { response: label });
        else if (Object.keys(chosen).length === questions.length) {
          actions.answer(confirmation, { response: "answers", answers: { ...chosen } });
        }
      };
      box.appendChild(
        h(
          "fieldset",
          {},
          h("legend", {}, question.question),
          ...(question.options ?? []).map((option) =>
            h("button", { type: "button", class: "option", title: option.description ?? "", onclick: () => send(option.label) }, option.label),
          ),
          free,
          h("button", { type: "button", onclick: () => free.value.trim() && send(free.value.trim()) }, "Answer"),
        ),
      );
    }
    box.appendChild(h("button", { type: "button", class: "deny", onclick: () => actions.answer(confirmation, { response: "deny" }) }, "Decline"));
    return box;
  }
  if (confirmation.kind === "skill") {
    const remember = h("input", { type: "checkbox" }) as HTMLInputElement;
    for (const option of confirmation.options) {
      box.appendChild(
        h("button", { type: "button", class: option === "let_claude" ? "option secondary" : "option", onclick: () => actions.answer(confirmation, { response: option, remember: remember.checked }) }, option === "let_claude" ? "Let Claude decide" : option),
      );
    }
    box.appendChild(h("label", { class: "remember" }, remember, " Remember"));
    return box;
  }
  if (confirmation.kind === "approval") {
    const comment = h("input", { type: "text", class: "reason comment", placeholder: "Comment for Claude (optional)", "aria-label": "Comment for Claude" }) as HTMLInputElement;
    const send = (response: "approve" | "reject") => actions.answer(confirmation, { response, message: comment.value.trim() || undefined });
    append(
      box,
      h("button", { type: "button", class: "allow approve", onclick: () => send("approve") }, "Approve"),
      h("button", { type: "button", class: "deny reject", onclick: () => send("reject") }, "Reject"),
      comment,
    );
    return box;
  }
  const remember = h("input", { type: "checkbox" }) as HTMLInputElement;
  const reason = h("input", { type: "text", class: "reason", placeholder: "Reason (optional, for a denial)" }) as HTMLInputElement;
  append(
    box,
    h("button", { type: "button", class: "allow", onclick: () => actions.answer(confirmation, { response: "allow", remember: remember.checked }) }, "Allow"),
    h("button", { type: "button", class: "deny", onclick: () => actions.answer(confirmation, { response: "deny", message: reason.value.trim() || undefined }) }, "Deny"),
    confirmation.kind === "tool_permission" ? h("label", { class: "remember" }, remember, " Remember for this project") : null,
    reason,
  );
  return box;
}
