// The sidebar's list of remote agent machines (``switchboard agent``): each one's name,
// and whether its link to the hub is up. Shown only when the server has agents.

import { h } from "./dom";
import type { AgentInfo } from "./wire";

/** "online", or "offline" with when the hub last heard from it. */
export function agentState(agent: AgentInfo, now: number): string {
  if (agent.online) return "online";
  if (agent.last_seen === null) return "offline";
  const minutes = Math.max(0, Math.round((now / 1000 - agent.last_seen) / 60));
  return minutes < 1 ? "offline, seen just now" : `offline, seen ${minutes} min ago`;
}

export function renderAgents(section: HTMLElement, agents: readonly AgentInfo[], serverOnline: boolean): void {
  section.hidden = agents.length === 0;
  const list = h("ul", { class: "agents" });
  for (const agent of [...agents].sort((a, b) => a.name.localeCompare(b.name))) {
    const online = serverOnline && agent.online;
    const roots = agent.allowed_roots.join(", ");
    list.appendChild(
      h(
        "li",
        { class: `agent ${online ? "online" : "offline"}`, title: roots === "" ? agent.name : `${agent.name}: ${roots}` },
        h("span", { class: "name" }, agent.name),
        h("span", { class: `badge ${online ? "running" : "offline"}` }, serverOnline ? agentState(agent, Date.now()) : "unknown"),
      ),
    );
  }
  section.replaceChildren(h("h2", {}, "Agents"), list);
}
