// The page under test: a WebSocket client for the URL in `?ws=` and a presigned-POST uploader.
"use strict";

const $ = (id) => document.getElementById(id);

function showMessage(text) {
  const item = document.createElement("li");
  item.textContent = text;
  $("messages").append(item);
}

function connect(url) {
  $("ws-url").textContent = url;
  $("ws-state").textContent = "connecting";
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => {
    $("ws-state").textContent = "open";
    socket.send("whoami"); // the two-way $default route answers with our connectionId
  });
  socket.addEventListener("message", (event) => {
    if (event.data instanceof ArrayBuffer) {
      const bytes = Array.from(new Uint8Array(event.data), (b) => b.toString(16).padStart(2, "0"));
      showMessage(`binary: ${bytes.join(" ")}`);
      return;
    }
    try {
      const reply = JSON.parse(event.data);
      if (reply && reply.received === "whoami" && reply.connectionId) {
        $("connection-id").textContent = reply.connectionId;
        return;
      }
    } catch {
      // not JSON: an ordinary pushed message
    }
    showMessage(event.data);
  });
  socket.addEventListener("close", (event) => {
    $("ws-state").textContent = `closed (${event.code})`;
  });
  socket.addEventListener("error", () => {
    $("ws-state").textContent = "error";
  });
  return socket;
}

// Uploads `file` with a presigned POST ({url, fields}) as a browser form does: the policy's fields
// first, then Content-Type (from the file unless the server fixed it), the file last (S3 ignores
// fields after it). Resolves to what the page could read of S3's answer.
async function uploadPresigned(presigned, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(presigned.fields)) {
    form.append(name, value);
  }
  if (!("Content-Type" in presigned.fields)) {
    form.append("Content-Type", file.type || "application/octet-stream");
  }
  form.append("file", file, file.name);
  const response = await fetch(presigned.url, { method: "POST", body: form });
  return { status: response.status, etag: response.headers.get("ETag"), text: await response.text() };
}

async function uploadSelectedFile() {
  const status = $("upload-status");
  status.textContent = "uploading";
  status.removeAttribute("data-outcome");
  $("upload-etag").textContent = "";
  $("upload-response").textContent = "";
  try {
    const result = await uploadPresigned(JSON.parse($("presigned").value), $("file").files[0]);
    status.textContent = String(result.status);
    status.dataset.outcome = result.status < 300 ? "ok" : "refused";
    $("upload-etag").textContent = result.etag || "";
    $("upload-response").textContent = result.text;
  } catch (error) {
    // A CORS refusal or a dropped connection: fetch hides the details from the page.
    status.textContent = `network error: ${error}`;
    status.dataset.outcome = "refused";
  }
}

window.uploadPresigned = uploadPresigned;
window.socket = null;
$("upload-button").addEventListener("click", uploadSelectedFile);
const wsUrl = new URLSearchParams(location.search).get("ws");
if (wsUrl) {
  window.socket = connect(wsUrl);
}
