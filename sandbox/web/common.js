// What the platform's pages provide to their own scripts (and TikTokApi relies on):
// the in-page signing function and the msToken cookie.
window.byted_acrawler = {
  init: function () {},
  frontierSign: function (url) { return { "X-Bogus": sandboxBogus(String(url)) }; }
};
function sandboxBogus(text) {
  // a deterministic 28-character token shaped like the platform's X-Bogus (the sandbox does not check it)
  var alphabet = "Dkdpgh4ZKsQB80/Mfvw36XI1R25-WUAlEi7NLboqYTOPuzmFjJnryx9HVGcaStCe=";
  var h = 2166136261 >>> 0, out = "DFSzsw";
  for (var i = 0; i < text.length; i++) { h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0; }
  while (out.length < 28) { h = Math.imul(h ^ out.length, 16777619) >>> 0; out += alphabet[h % 64]; }
  return out;
}
(function ensureToken() {
  if (!/(?:^|;\s*)msToken=/.test(document.cookie)) {
    document.cookie = "msToken=__MS_TOKEN__; path=/; max-age=86400; SameSite=Lax";
  }
})();
function sandboxToken() {
  var m = document.cookie.match(/(?:^|;\s*)msToken=([^;]+)/);
  return m ? m[1] : "";
}
function sandboxApi(path, params) {
  var query = new URLSearchParams(Object.assign({ aid: "1988", app_name: "tiktok_web", device_platform: "web_pc" }, params));
  query.set("msToken", sandboxToken());
  var url = path + "?" + query.toString();
  url += "&X-Bogus=" + window.byted_acrawler.frontierSign(url)["X-Bogus"];
  return fetch(url, { credentials: "include" })
    .then(function (r) { return r.text().then(function (t) { return { status: r.status, text: t }; }); })
    .then(function (r) {
      try { return JSON.parse(r.text); } catch (e) { return { statusCode: -1, httpStatus: r.status, body: r.text.slice(0, 200) }; }
    });
}
function sandboxEscape(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}
function sandboxCard(item, e2e) {
  var el = document.createElement("article");
  el.className = "item";
  el.setAttribute("data-e2e", e2e);
  el.setAttribute("data-video-id", item.id);
  var author = (item.author && item.author.uniqueId) || "_";
  el.innerHTML = '<a href="/@' + sandboxEscape(author) + "/video/" + sandboxEscape(item.id) + '">' +
    '<strong>@' + sandboxEscape(author) + "</strong> " + sandboxEscape(item.desc) + "</a>";
  return el;
}
// One request after the first user interaction, as the platform's telemetry does: TikTokApi copies
// its session headers from the first request a page fires after the session starts.
(function () {
  var sent = false;
  function ping() {
    if (sent) return;
    sent = true;
    fetch("/api/web/report/?event=interaction", { credentials: "include", keepalive: true }).catch(function () {});
  }
  window.addEventListener("mousemove", ping, { passive: true });
  window.addEventListener("scroll", ping, { passive: true });
})();
// The page SDK double: like the real page's SDK it wraps fetch and appends what the site checks on API calls
// (msToken, X-Bogus, X-Gnarly, device_id, odinId, WebIdLastTime: placeholders; a strict site checks presence).
// A strict site that refuses automation gets no X-Gnarly from a browser whose navigator.webdriver is true.
(function sdk() {
  var site = window.__sandboxSite || {};
  function stored(key, make) {
    var value = null;
    try { value = window.localStorage.getItem(key); } catch (e) {}
    if (!value) { value = make(); try { window.localStorage.setItem(key, value); } catch (e) {} }
    return value;
  }
  function digits(n) { var s = ""; while (s.length < n) s += Math.floor(Math.random() * 10); return "7" + s.slice(1); }
  var deviceId = stored("sbx_device_id", function () { return digits(19); });
  var odinId = stored("sbx_odin_id", function () { return digits(19); });
  var webIdLastTime = stored("sbx_webid_time", function () { return String(Math.floor(Date.now() / 1000)); });
  var realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    try {
      var url = new URL(typeof input === "string" ? input : (input && input.url) || String(input), location.href);
      if (url.origin === location.origin && url.pathname.indexOf("/api/") === 0 && url.pathname.indexOf("/api/web/") !== 0) {
        var add = { msToken: sandboxToken(), device_id: deviceId, odinId: odinId, WebIdLastTime: webIdLastTime };
        Object.keys(add).forEach(function (k) { if (!url.searchParams.get(k)) url.searchParams.set(k, add[k]); });
        if (!url.searchParams.get("X-Bogus")) url.searchParams.set("X-Bogus", sandboxBogus(url.toString()));
        if (!(site.refuse && navigator.webdriver)) url.searchParams.set("X-Gnarly", "Gn" + sandboxBogus("gnarly" + url.toString()));
        input = typeof input === "string" ? url.toString() : new Request(url.toString(), input);
      }
    } catch (e) {}
    return realFetch(input, init);
  };
})();
