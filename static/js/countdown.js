// Live countdowns. The server sends each running clock's deadline (and its warning time) as
// ISO 8601 in data-deadline / data-warn: it counts working days and 调休 on its own calendar, so
// the browser only ticks the time left each second and colours it: amber from the warning,
// red past the deadline. Elements swapped in by htmx are picked up on the next tick.
(() => {
  const units = () => (document.documentElement.lang || "zh-hans").startsWith("zh")
    ? { d: "天", h: "小时", m: "分", s: "秒", late: "超时 ", left: "剩余 " }
    : { d: "d ", h: "h ", m: "m ", s: "s", late: "overdue ", left: "" };

  function format(ms) {
    const u = units();
    const late = ms < 0;
    let rest = Math.floor(Math.abs(ms) / 1000);
    const days = Math.floor(rest / 86400);
    rest -= days * 86400;
    const hours = Math.floor(rest / 3600);
    rest -= hours * 3600;
    const minutes = Math.floor(rest / 60);
    const seconds = rest - minutes * 60;
    const parts = [];
    if (days) parts.push(days + u.d);
    if (days || hours) parts.push(hours + u.h);
    parts.push(String(minutes).padStart(days || hours ? 2 : 1, "0") + u.m);
    if (!days) parts.push(String(seconds).padStart(2, "0") + u.s);
    return (late ? u.late : u.left) + parts.join("");
  }

  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-deadline]")) {
      const deadline = Date.parse(el.dataset.deadline);
      if (Number.isNaN(deadline)) continue;
      const warn = el.dataset.warn ? Date.parse(el.dataset.warn) : NaN;
      const left = deadline - now;
      const state = left < 0 ? "overdue" : (!Number.isNaN(warn) && now >= warn ? "warning" : "running");
      const text = format(left);
      if (el.textContent !== text) el.textContent = text;
      if (el.dataset.state !== state) {
        el.dataset.state = state;
        el.classList.remove("countdown-running", "countdown-warning", "countdown-overdue");
        el.classList.add("countdown-" + state);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", tick);
})();
