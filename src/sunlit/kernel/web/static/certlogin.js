// Certificate login and binding: the private key stays in the local certificate helper
// (`sunlit signer`), which signs the platform's one-time challenge. No third-party script.
(function () {
  "use strict";
  const box = document.getElementById("cert-login");
  if (!box) return;
  const signer = box.dataset.signer.replace(/\/$/, "");
  const select = document.getElementById("cert-select");
  const button = document.getElementById("cert-login-btn");
  const status = document.getElementById("cert-status");
  const errorBox = document.getElementById("cert-error");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const purpose = box.dataset.purpose || "login";
  let certs = [];

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  async function problemText(response) {
    try {
      const body = await response.json();
      return body.detail || body.title || ("HTTP " + response.status);
    } catch (e) {
      return "HTTP " + response.status;
    }
  }

  async function loadCertificates() {
    try {
      const response = await fetch(signer + "/certificates");
      certs = await response.json();
    } catch (e) {
      select.innerHTML = "<option>未检测到证书助手</option>";
      status.textContent = "未检测到本机证书助手，请插入证书并启动证书助手（sunlit signer serve）后刷新页面。";
      return;
    }
    select.innerHTML = "";
    certs.forEach(function (c, i) {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = c.label + "（" + c.algorithm + "，有效期至 " + c.not_after.slice(0, 10) + "）";
      select.appendChild(option);
    });
    if (certs.length === 0) {
      status.textContent = "证书助手中没有可用证书。";
      return;
    }
    select.disabled = false;
    button.disabled = false;
    status.textContent = "检测到 " + certs.length + " 张证书。";
  }

  async function login() {
    errorBox.hidden = true;
    button.disabled = true;
    status.textContent = "正在签名…";
    try {
      const cert = certs[Number(select.value)];
      const ch = await fetch("/api/v1/auth/challenge?purpose=" + purpose, {
        method: "POST", headers: { "X-CSRF-Token": csrf },
      });
      if (!ch.ok) throw new Error(await problemText(ch));
      const challenge = await ch.json();
      const signed = await fetch(signer + "/sign", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ id: cert.id, message: challenge.message }),
      });
      if (!signed.ok) throw new Error("证书助手拒绝签名：" + (await problemText(signed)));
      const signature = (await signed.json()).signature;
      const done = await fetch(purpose === "bind" ? "/api/v1/me/certificates" : "/login/certificate", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({
          challenge_id: challenge.challenge_id, certificate: cert.certificate,
          signature: signature, next: box.dataset.next,
        }),
      });
      if (!done.ok) throw new Error(await problemText(done));
      if (purpose === "bind") {
        window.location.assign("/me?bound=1");
      } else {
        window.location.assign((await done.json()).redirect);
      }
    } catch (e) {
      showError(e.message);
      status.textContent = "";
      button.disabled = false;
    }
  }

  button.addEventListener("click", login);
  loadCertificates();
})();
