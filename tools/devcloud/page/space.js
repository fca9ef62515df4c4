// The dev cloud's Space page: reads the Space id and its admin API token
// from the fragment (#space=…&admin=…), shows the connect command with the
// current claim token and rooms and the Space's nodes (polled), and
// regenerates the token. Values go into the page as text only.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const space = params.get("space") || "";
  const admin = params.get("admin") || "";
  const base = "/api/v1/spaces/" + encodeURIComponent(space);

  function problem(text) {
    $("problem").hidden = !text;
    $("problem").textContent = text || "";
  }

  async function api(method, path) {
    const r = await fetch(base + path, {
      method,
      headers: { Authorization: "Bearer " + admin },
      cache: "no-store",
    });
    if (!r.ok) throw new Error(method + " " + path + ": HTTP " + r.status);
    return r.json();
  }

  function showToken(token, rooms) {
    const url = location.origin;
    $("token").textContent = token;
    $("rooms").textContent = rooms.join(",");
    $("url").textContent = url;
    $("command").textContent = "tools/install --claim-token " + token +
      " --claim-rooms " + rooms.join(",") + " --claim-url " + url;
  }

  function showNodes(nodes) {
    const body = $("nodes");
    const rows = nodes.map((n) => {
      const tr = document.createElement("tr");
      const state = n.state === "online" ? "online" : n.state === "created" ? "created" : "offline";
      for (const [text, cls] of [[n.name, ""], [state, "state"], [n.id, ""]]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) {
          td.className = cls;
          td.dataset.state = state;
        }
        tr.appendChild(td);
      }
      tr.dataset.claimId = n.id;
      return tr;
    });
    body.replaceChildren(...rows);
    $("no-nodes").hidden = nodes.length > 0;
  }

  let rooms = [];
  async function refresh() {
    try {
      const t = await api("GET", "/claim-token");
      rooms = t.rooms || [];
      showToken(t.token, rooms);
      showNodes(await api("GET", "/nodes"));
      problem("");
    } catch (e) {
      problem("The dev cloud refused or did not answer (" + e.message +
        "). Open this page with the address tools/demo prints.");
    }
  }

  $("space-id").textContent = space || "(none in the address)";
  $("regenerate").addEventListener("click", async () => {
    $("regenerate").disabled = true;
    try {
      const answer = await api("POST", "/claim-token/regenerate");
      showToken(answer.token, rooms);
      $("regenerate-result").textContent =
        "A new token was issued; the old one is refused from now on.";
    } catch (e) {
      $("regenerate-result").textContent = "Regenerating failed: " + e.message;
    } finally {
      $("regenerate").disabled = false;
    }
  });
  refresh();
  setInterval(refresh, 2000);
})();
