// Who answered a confirmation, in plain words: "You allowed this", "Allowed by rule",
// "Allowed from another device", and the same for denials, questions, plans, skills'
// questions and Claude's changes (request_approval); and how one that nobody answered
// ended.
//
// "You" is this browser: it remembers the confirmations it answered (in local storage,
// the newest few hundred), so that its other tabs, and this one after a reload, still
// say "you".

import type { ConfirmationInfo } from "./wire";

const STORAGE_KEY = "switchboard.answered";
const KEPT = 500;

type Kind = ConfirmationInfo["kind"];

/** The confirmations this browser answered. */
export class AnsweredHere {
  private ids: string[] = [];
  private known = new Set<string>();

  constructor(private readonly storage: Storage | null = browserStorage()) {
    this.load();
    window.addEventListener("storage", (event) => event.key === STORAGE_KEY && this.load());
  }

  has(id: string): boolean {
    return this.known.has(id);
  }

  add(id: string): void {
    if (this.known.has(id)) return;
    this.ids = [...this.ids, id].slice(-KEPT);
    this.known = new Set(this.ids);
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.ids));
    } catch {
      // Storage full or refused: this tab still knows.
    }
  }

  private load(): void {
    try {
      const stored: unknown = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? "[]");
      if (Array.isArray(stored)) this.ids = [...new Set([...stored.map(String), ...this.ids])].slice(-KEPT);
    } catch {
      // Unreadable: start from what this tab knows.
    }
    this.known = new Set(this.ids);
  }
}

function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export interface Answered {
  response: string;
  by: "client" | "rule";
  message?: string | null;
  remembered?: string[] | null;
}

/** Who is the answer's subject: you (this browser), a rule, or another device. */
type Who = "you" | "rule" | "other";

/** A ``confirmation_answered`` in words; ``kind`` is the confirmation's (when known). */
export function answerLine(kind: Kind | undefined, answer: Answered, mine: boolean): string {
  const who: Who = answer.by === "rule" ? "rule" : mine ? "you" : "other";
  const reason = answer.message ? `: ${answer.message}` : "";
  const guessed = answer.response === "approve" || answer.response === "reject" ? "approval" : "tool_permission";
  const line = words(kind ?? guessed, answer.response, who);
  const remembered = answer.remembered?.length ? ", and remembered for this project" : "";
  return `${line}${remembered}${reason}`;
}

function words(kind: Kind, response: string, who: Who): string {
  const denied = response === "deny";
  if (kind === "question") {
    if (denied) return by(who, "You declined the question", "Declined by rule", "Declined from another device");
    if (response === "answers") return by(who, "You answered the questions", "Answered by rule", "Answered from another device");
    return `${by(who, "You answered", "Answered by rule", "Answered from another device")}: ${response}`;
  }
  if (kind === "plan") {
    return denied
      ? by(who, "You rejected the plan", "Plan rejected by rule", "Plan rejected from another device")
      : by(who, "You approved the plan", "Plan approved by rule", "Plan approved from another device");
  }
  if (kind === "approval") {
    return response === "reject" || denied
      ? by(who, "You rejected the changes", "Changes rejected by rule", "Changes rejected from another device")
      : by(who, "You approved the changes", "Changes approved by rule", "Changes approved from another device");
  }
  if (kind === "skill") {
    if (response === "let_claude") return by(who, "You let Claude decide", "Left to Claude by rule", "Left to Claude from another device");
    return `${by(who, "You chose", "Chosen by rule", "Chosen from another device")}: ${response}`;
  }
  return denied
    ? by(who, "You denied this", "Denied by rule", "Denied from another device")
    : by(who, "You allowed this", "Allowed by rule", "Allowed from another device");
}

function by(who: Who, you: string, rule: string, other: string): string {
  return who === "you" ? you : who === "rule" ? rule : other;
}

const ENDINGS: Record<string, string> = {
  timeout: "Nobody answered in time",
  cancelled: "The run was cancelled before an answer",
  withdrawn: "The question was withdrawn",
  ended: "The run ended before an answer",
  server_restart: "The server restarted before an answer",
};

/** A ``confirmation_expired`` in words; ``kind`` is the confirmation's (when known). */
export function expiryLine(reason: string, fallback: string, kind?: Kind): string {
  const ending = ENDINGS[reason] ?? `No answer (${reason})`;
  const outcome: Record<string, string> = {
    let_claude: "Claude decides",
    asked_again: "asked again below",
  };
  return `${ending}: ${outcome[fallback] ?? (kind === "approval" ? "the changes are rejected" : "denied")}`;
}
