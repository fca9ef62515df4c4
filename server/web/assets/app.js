// The local page: shows the node's state (polling /api/v3/claim) and, when
// the node can be claimed, sends the Connect form to /api/v3/claim. Every
// text from the node or the address bar goes into the page as text
// (textContent, input values), never as HTML.
"use strict";

(function () {
  const POLL_MS = 2000;

  // Plain words for the registered reasons (server/common/reasons.h) a
  // person meets here.
  const REASON_WORDS = {
    TOKEN_INVALID: "The cloud rejected the claim token. Copy the current token from the Space's page.",
    TOKEN_INVALID_FORMAT: "The claim token is not in the form tokens have.",
    ROOMS_INVALID: "A room id is malformed.",
    INVALID_ROOM_ID: "A room is not in the Space. Check the room ids.",
    URL_INVALID: "The cloud URL is not a valid https:// URL.",
    ALREADY_CLAIMED: "The cloud says this node is already claimed.",
    CLAIMED_ELSEWHERE: "The node is already claimed with other values.",
    PROXY_FAILED: "The proxy could not be reached or refused to relay the connection.",
    PROXY_AUTH: "The proxy refused its credentials.",
    PROXY_INVALID: "The proxy setting is not valid.",
    CONNECT_FAILED: "The cloud could not be reached (refused, unreachable or unknown name).",
    CONNECT_TIMEOUT: "The cloud did not answer in time.",
    CONNECTION_LOST: "The connection to the cloud dropped.",
    TLS_VERIFY_FAILED: "The cloud's certificate could not be verified.",
    TLS_FAILED: "The secure connection to the cloud failed.",
    CLOUD_ERROR: "The cloud answered with an unexpected error.",
    BANNED: "The cloud asked this node not to reconnect.",
    CONNECTING: "Connecting to the cloud…",
    NOT_CONNECTED: "Not connected yet.",
    NOT_CLAIMED: "This node is not connected to a Space yet.",
    CLAIM_PENDING: "A claim with the configured token is due.",
    MQTT_AUTH_FAILED: "The cloud's broker refused the node's credentials.",
    SERVER_DISCONNECT: "The cloud's broker ended the session.",
    KEEPALIVE_TIMEOUT: "The cloud's broker stopped answering.",
    CLOUD_DISCONNECT: "The cloud asked the node to reconnect later.",
    DISCONNECTED: "The link was closed.",
  };

  const STATUS_WORDS = {
    available: ["Not connected", "This node is not connected to a Space."],
    offline: ["Offline", "Connected to a Space, but not online now."],
    online: ["Online", "Connected and online."],
    banned: ["Banned", "The cloud refuses this node."],
  };

  const $ = (id) => document.getElementById(id);
  let keyFilename = "";
  let busy = false;

  function setText(id, text) {
    const el = $(id);
    const value = text === undefined || text === null || text === "" ? "—" : String(text);
    if (el.textContent !== value) el.textContent = value;
  }

  function reasonWords(cloud) {
    const name = cloud.reason_name || "";
    if (name && REASON_WORDS[name]) return REASON_WORDS[name];
    return cloud.reason || "";
  }

  function showState(answer) {
    const cloud = answer.cloud || {};
    const status = cloud.status || "unknown";
    const words = STATUS_WORDS[status] || [status, ""];
    $("status-line").dataset.status = status;
    setText("status-badge", words[0]);
    setText("status-text", words[1]);
    setText("fact-reason", status === "online" ? "" : reasonWords(cloud));
    setText("fact-claim-id", cloud.claim_id);
    setText("fact-url", cloud.url);
    setText("fact-next", typeof cloud.next_in === "number"
      ? "in " + cloud.next_in + " s" : "");
    setText("fact-since", cloud.since
      ? new Date(cloud.since * 1000).toLocaleString() + " (" + cloud.age + " s ago)" : "");
    const agent = answer.agent || {};
    setText("fact-guid", agent.machine_guid);
    $("agent-version").textContent = agent.version ? "cloudlink " + agent.version : "";
    if (answer.key_filename) {
      keyFilename = answer.key_filename;
      $("key-command").textContent = "sudo cat " + keyFilename;
    }
    $("connect").hidden = !answer.can_be_claimed;
  }

  function showUnreachable() {
    $("status-line").dataset.status = "unreachable";
    setText("status-badge", "No answer");
    setText("status-text", "cloudlinkd does not answer. Is it running?");
  }

  async function poll() {
    try {
      const r = await fetch("/api/v3/claim", { cache: "no-store" });
      if (!r.ok) throw new Error("HTTP " + r.status);
      if (!busy) showState(await r.json());
    } catch (e) {
      showUnreachable();
    }
  }

  function showResult(kind, text, detail) {
    $("result-card").hidden = false;
    const el = $("result");
    el.dataset.kind = kind;
    el.textContent = text;
    $("result-detail").textContent = detail || "";
  }

  async function connect(event) {
    event.preventDefault();
    if (busy) return;
    const body = {
      key: $("key").value.trim(),
      token: $("token").value.trim(),
      rooms: $("rooms").value.trim(),
      url: $("url").value.trim(),
    };
    if (!body.token || !body.url || !body.key) {
      showResult("error", "Fill in the claim token, the cloud URL and the key.");
      (!body.token ? $("token") : !body.url ? $("url") : $("key")).focus();
      return;
    }
    busy = true;
    $("connect-button").disabled = true;
    showResult("wait", "Connecting… (this can take up to 10 seconds)");
    try {
      const r = await fetch("/api/v3/claim", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        cache: "no-store",
      });
      // The key is spent either way.
      $("key").value = "";
      if (r.status === 403) {
        showResult("error", "The key is wrong.",
          "A new key was written. Run " + (keyFilename ? "sudo cat " + keyFilename : "the command") +
          " again and paste the new key.");
      } else if (r.status === 400) {
        showResult("error", "Some values have characters that are not allowed.",
          "The token, rooms and cloud URL may hold only letters, digits and . , : / _ - " +
          "(rooms: \"" + body.rooms + "\", cloud URL: \"" + body.url + "\"). A new key was written.");
      } else if (!r.ok) {
        showResult("error", "cloudlinkd refused the request (HTTP " + r.status + ").");
      } else {
        const answer = await r.json();
        showState(answer);
        const cloud = answer.cloud || {};
        if (answer.success && cloud.status === "online") {
          showResult("ok", "Connected: the node is online.",
            "Claim id " + cloud.claim_id + ".");
        } else if (answer.success) {
          showResult("wait", "Claimed, but not online yet.", reasonWords(cloud));
        } else {
          const words = REASON_WORDS[answer.error_reason || ""];
          showResult("error", words || "The claim failed.", answer.message || "");
        }
      }
    } catch (e) {
      showResult("error", "cloudlinkd did not answer.", String(e));
    } finally {
      busy = false;
      $("connect-button").disabled = false;
      poll();
    }
  }

  // Values handed over in the fragment (#token=…&rooms=…&url=…), e.g. by a
  // cloud's page; the fragment never reaches a server.
  function prefill() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    for (const name of ["token", "rooms", "url"]) {
      const value = params.get(name);
      if (value !== null) $(name).value = value;
    }
  }

  $("connect-form").addEventListener("submit", connect);
  $("copy-command").addEventListener("click", () => {
    const text = $("key-command").textContent;
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
  });
  prefill();
  poll();
  setInterval(poll, POLL_MS);
})();
