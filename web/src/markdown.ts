// Assistant text as Markdown: marked for the syntax, highlight.js for code blocks,
// DOMPurify so that nothing Claude writes can run in the page.

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/common";
import { Marked } from "marked";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    // HTML in Claude's text is shown as text, never interpreted.
    html({ text }) {
      return escapeHtml(text);
    },
    code({ text, lang }) {
      const language = lang && hljs.getLanguage(lang) ? lang : undefined;
      // Auto-detection is slow on long histories: code without a known language stays plain.
      const shown = language ? hljs.highlight(text, { language }).value : escapeHtml(text);
      const label = language ? ` data-lang="${language}"` : "";
      return `<pre class="code"${label}><code class="hljs">${shown}</code></pre>`;
    },
  },
});

/** A second line of defence behind the escaping: nothing that styles, submits or embeds. */
const SANITIZE = {
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
  FORBID_ATTR: ["style", "id", "name"],
};

export function markdown(text: string): HTMLElement {
  const element = document.createElement("div");
  element.className = "markdown";
  const html = marked.parse(text, { async: false });
  element.innerHTML = DOMPurify.sanitize(html, SANITIZE);
  for (const link of element.querySelectorAll("a")) {
    link.setAttribute("target", "_blank");
    link.setAttribute("rel", "noopener noreferrer");
  }
  return element;
}
