// Direct browser uploads to S3 with a progress bar. The app presigns (POST, CSRF header), the
// file goes straight to the object store (PUT), then the app is told the key. Only this file
// knows the upload protocol, so moving to presigned POST changes one function: sendToStore.
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

function sendToStore(target, file, bar) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", target.url);
    xhr.setRequestHeader("Content-Type", target.content_type);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error("HTTP " + xhr.status)));
    xhr.onerror = () => reject(new Error("network error"));
    xhr.send(file);
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
    status.textContent = `${status.dataset.failed} ${error.message} ${status.dataset.retry}`;
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
