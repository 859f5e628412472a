// Direct browser uploads to S3 with a progress bar. The app presigns (POST, CSRF header), the
// file goes straight to the object store (presigned POST, multipart form), then the app is told
// the key. Only sendToStore knows the store's upload protocol.
"use strict";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "x-csrftoken": csrfToken() },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || response.statusText);
  return data;
}

// Presigned POST: every entry of `fields` first, the file last as `file`; the store answers
// 204, 400 EntityTooLarge for a file over the limit, 403 for a wrong key, type or an expired
// policy. Errors carry the status box's data-* key of their message (in the page language).
class StoreError extends Error {
  constructor(messageKey, detail) {
    super(detail);
    this.messageKey = messageKey;
  }
}

function sendToStore(target, file, bar) {
  return new Promise((resolve, reject) => {
    if (target.max_bytes && file.size > target.max_bytes) {
      reject(new StoreError("tooLarge", `${file.size} > ${target.max_bytes} bytes`));
      return;
    }
    const form = new FormData();
    for (const [name, value] of Object.entries(target.fields || {})) form.append(name, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open(target.method || "POST", target.url);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      const code = (xhr.responseText.match(/<Code>([^<]+)<\/Code>/) || [])[1] || "";
      const detail = `HTTP ${xhr.status}${code ? " " + code : ""}`;
      if (code === "EntityTooLarge") return reject(new StoreError("tooLarge", detail));
      if (xhr.status === 403) return reject(new StoreError("refused", detail));
      return reject(new Error(detail));
    };
    xhr.onerror = () => reject(new StoreError("network", "network error"));
    xhr.send(form);
  });
}

async function upload(box, file) {
  const bar = box.querySelector("progress");
  const status = box.querySelector(".upload-status");
  bar.hidden = false;
  bar.value = 0;
  status.textContent = "";
  box.dataset.state = "uploading";
  try {
    let target;
    if (box.dataset.kind === "inspection") {
      [target] = await postJSON(box.dataset.presign, { file_names: [file.name], content_type: file.type });
    } else {
      target = await postJSON(box.dataset.presign, { file_name: file.name, content_type: file.type });
    }
    await sendToStore(target, file, bar);
    bar.value = 100;
    if (box.dataset.attach) await postJSON(box.dataset.attach, { key: target.key });
    if (box.dataset.target) {
      const item = document.createElement("li");
      item.textContent = file.name;
      const hidden = document.createElement("input");
      Object.assign(hidden, { type: "hidden", name: "media_key", value: target.key });
      item.appendChild(hidden);
      document.getElementById(box.dataset.target).appendChild(item);
    }
    status.textContent = status.dataset.done;
    box.dataset.state = "done";
    if (box.dataset.kind === "product") window.location.reload();
  } catch (error) {
    const reason = (error.messageKey && status.dataset[error.messageKey]) || "";
    status.textContent = [status.dataset.failed, reason, `(${error.message})`, status.dataset.retry]
      .filter(Boolean)
      .join(" ");
    box.dataset.state = "failed";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-upload]")) {
    const input = box.querySelector("input[type=file]");
    input.addEventListener("change", () => {
      if (input.files.length) upload(box, input.files[0]).finally(() => { input.value = ""; });
    });
  }
});

// Bulk listing: the batch page's bar follows the batch workflow's progress query (through the
// console's JSON route) every second until every product is listed or failed.
async function followBatch(box) {
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  const words = (p) => box.dataset.words
    .replace("%(done)s", p.done).replace("%(failed)s", p.failed).replace("%(total)s", p.total);
  for (;;) {
    try {
      const response = await fetch(box.dataset.progress, { credentials: "same-origin" });
      const p = await response.json();
      if (!response.ok) throw new Error(p.detail || response.statusText);
      bar.max = p.total;
      bar.value = p.done + p.failed;
      text.textContent = words(p);
      if (p.done + p.failed >= p.total) {
        box.dataset.state = "finished";
        return;
      }
    } catch (error) {
      text.textContent = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-batch]")) followBatch(box);
});
