// Switchboard's service worker (served at /sw.js). It shows the Web Push alerts the
// server sends to this browser (push.ts subscribes it), and on a click brings the page
// to the front at the project the alert is about, or opens it. Plain JavaScript:
// vite copies it as it is, so that it can live at the root and control the whole page.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

/** The alert a push carries (docs/notifications.md): {kind, project, project_name,
 *  title, body, tag, run, confirmation, at}. */
function readAlert(data) {
  if (data === null) return {};
  try {
    const alert = data.json();
    return alert !== null && typeof alert === "object" ? alert : {};
  } catch {
    return { body: data.text() };
  }
}

function text(value, otherwise) {
  return typeof value === "string" && value !== "" ? value : otherwise;
}

self.addEventListener("push", (event) => {
  const alert = readAlert(event.data);
  const waits = alert.kind === "confirmation" || alert.kind === "question";
  const options = {
    body: text(alert.body, ""),
    data: { project: text(alert.project, null) },
    requireInteraction: waits, // a question stays until it is seen
  };
  const tag = text(alert.tag, null);
  if (tag !== null) options.tag = tag; // a later alert about the same thing replaces it
  event.waitUntil(self.registration.showNotification(text(alert.title, "Switchboard"), options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const project = event.notification.data?.project ?? null;
  event.waitUntil(focusOrOpen(project));
});

async function focusOrOpen(project) {
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const page = pages.find((client) => new URL(client.url).origin === self.location.origin);
  if (page !== undefined) {
    if (project !== null) page.postMessage({ type: "switchboard.open_project", project });
    return page.focus();
  }
  const url = new URL("/", self.location.origin);
  if (project !== null) url.hash = `project=${encodeURIComponent(project)}`;
  return self.clients.openWindow(url.href);
}
