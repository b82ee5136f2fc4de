// The open project's task list, as Claude keeps it (update_task_status, its todo list,
// its task tools): each task with its status, percent and Claude's latest note, and
// above them what Claude last said it is doing (report_progress). Hidden while there is
// nothing to show.

import { append, h } from "./dom";
import type { Progress } from "./state";
import type { TaskInfo, TaskStatus } from "./wire";

const STATUS_WORDS: Record<TaskStatus, string> = {
  pending: "to do",
  in_progress: "in progress",
  completed: "done",
  blocked: "blocked",
  failed: "failed",
};

/** "42%": a percent as shown, whole. */
export function percentText(percent: number): string {
  return `${Math.round(Math.min(100, Math.max(0, percent)))}%`;
}

/** "2 of 5 done". */
export function tasksDone(tasks: readonly TaskInfo[]): string {
  return `${tasks.filter((task) => task.status === "completed").length} of ${tasks.length} done`;
}

export function renderTasks(section: HTMLElement, tasks: readonly TaskInfo[], progress: Progress | null): void {
  section.hidden = tasks.length === 0 && progress === null;
  if (section.hidden) {
    section.replaceChildren();
    return;
  }
  section.replaceChildren();
  append(
    section,
    h("h2", {}, "Tasks", tasks.length > 0 ? h("span", { class: "count" }, tasksDone(tasks)) : null),
    progress === null ? null : progressLine(progress),
    tasks.length === 0 ? null : h("ul", { class: "task-list" }, ...tasks.map(taskItem)),
  );
}

function progressLine(progress: Progress): HTMLElement {
  const when = new Date(progress.at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return h(
    "p",
    { class: "progress", title: `Reported at ${when}` },
    progress.message,
    progress.percent === null ? null : h("span", { class: "percent" }, ` ${percentText(progress.percent)}`),
  );
}

function taskItem(task: TaskInfo): HTMLElement {
  return h(
    "li",
    { class: "task", "data-task": task.id, "data-status": task.status },
    h("span", { class: `badge status ${task.status}` }, STATUS_WORDS[task.status] ?? task.status),
    h("span", { class: "title" }, task.title),
    task.percent == null ? null : meter(task.percent),
    task.note ? h("p", { class: "task-note" }, task.note) : null,
  );
}

function meter(percent: number): HTMLElement {
  const shown = percentText(percent);
  const bar = h("span", { class: "bar" });
  bar.style.width = shown; // through the CSSOM: the page's CSP refuses style attributes
  return h(
    "span",
    { class: "meter", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(percent), title: shown },
    bar,
    h("span", { class: "percent" }, shown),
  );
}
